import Database from 'better-sqlite3';
import type { DataSource } from 'typeorm';
import { SqliteBusyError, sqliteConnection, sqliteForWrite } from './sqlite-connection';

describe('sqliteForWrite', () => {
  const db = new Database(':memory:');
  const ds = { driver: { databaseConnection: db } } as unknown as DataSource;
  afterAll(() => db.close());

  it('hands out the connection TypeORM holds while no transaction is open on it', () => {
    expect(sqliteConnection(ds)).toBe(db);
    expect(sqliteForWrite(ds, 'usage batch')).toBe(db);
  });

  it("refuses while another caller's transaction is open, naming what is deferred", () => {
    db.exec('BEGIN');
    try {
      expect(() => sqliteForWrite(ds, 'audit append')).toThrow(SqliteBusyError);
      expect(() => sqliteForWrite(ds, 'audit append')).toThrow(
        'the SQLite connection is in another transaction; audit append deferred',
      );
    } finally {
      db.exec('ROLLBACK');
    }
    expect(sqliteForWrite(ds, 'audit append')).toBe(db);
  });
});
