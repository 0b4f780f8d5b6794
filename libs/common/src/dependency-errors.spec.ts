import {
  DependencyUnavailableError,
  isDatabaseUnavailable,
  unavailableDependency,
} from './dependency-errors';
import { mapError } from './error-mapping';
import { AtpError } from './errors';

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it.each([
    ['fast stop', pgError('57P01', 'terminating connection due to administrator command')],
    ['crash shutdown', pgError('57P02', 'terminating connection due to crash of another server process')],
    ['starting up', pgError('57P03', 'the database system is starting up')],
    ['too many connections', pgError('53300', 'sorry, too many clients already')],
    ['refused', pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['immediate stop', new Error('Connection terminated unexpectedly')],
    ['pool connect timeout', new Error('timeout exceeded when trying to connect')],
    ['broken client', new Error('Client has encountered a connection error and is not queryable')],
    [
      "TypeORM's QueryFailedError",
      Object.assign(new Error('terminating connection'), { driverError: pgError('57P01', 'terminating') }),
    ],
    [
      'AggregateError of refusals',
      new AggregateError([pgError('ECONNREFUSED', 'connect ECONNREFUSED ::1:5432')]),
    ],
  ])('%s → unavailable', (_, err) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
    expect(unavailableDependency(err)).toBe('PostgreSQL');
  });

  it.each([
    ['unique violation', pgError('23505', 'duplicate key value violates unique constraint')],
    ['syntax error', pgError('42601', 'syntax error at or near "SELEC"')],
    ['SQLite busy', pgError('SQLITE_BUSY', 'database is locked')],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['nothing', null],
  ])('%s → not an outage', (_, err) => {
    expect(isDatabaseUnavailable(err)).toBe(false);
    expect(unavailableDependency(err)).toBeNull();
  });

  it('a DependencyUnavailableError names its dependency', () => {
    expect(unavailableDependency(new DependencyUnavailableError('Redis', 'down'))).toBe('Redis');
    expect(isDatabaseUnavailable(new DependencyUnavailableError('Redis', 'down'))).toBe(false);
  });
});

describe('mapError for outages', () => {
  it('a database outage is a 503 database_unavailable with Retry-After, not a logged 500', () => {
    const m = mapError(pgError('57P01', 'terminating connection due to administrator command'));
    expect(m).toEqual({
      status: 503,
      body: {
        error: {
          message: 'The database is temporarily unavailable; retry shortly',
          type: 'service_unavailable',
          code: 'database_unavailable',
          param: null,
        },
      },
      headers: { 'retry-after': '5' },
      unexpected: false,
      dependency: 'PostgreSQL',
    });
  });

  it('a 503 AtpError is an outage answer (counted on its dependency), a 500 AtpError is logged', () => {
    const m = mapError(AtpError.unavailable('auth_unavailable', 'down', 'PostgreSQL'));
    expect({
      status: m.status,
      unexpected: m.unexpected,
      dependency: m.dependency,
      headers: m.headers,
    }).toEqual({
      status: 503,
      unexpected: false,
      dependency: 'PostgreSQL',
      headers: { 'retry-after': '5' },
    });
    expect(mapError(new AtpError(500, 'internal_error', 'x')).unexpected).toBe(true);
  });
});
