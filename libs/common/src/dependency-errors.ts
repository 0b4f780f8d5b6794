/**
 * A dependency (PostgreSQL, Redis) that cannot answer now. Thrown by the stores that know it
 * (e.g. the Redis store once it has marked Redis down); the global filter answers 503 with
 * Retry-After and counts it on the dependency's outage reporter instead of logging it.
 */
export class DependencyUnavailableError extends Error {
  constructor(
    /** As the logs and `atp_dependency_up` name it: `PostgreSQL`, `Redis`. */
    readonly dependency: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DependencyUnavailableError';
  }
}

export const POSTGRESQL = 'PostgreSQL';

/**
 * SQLSTATEs of a server that is going away or cannot take the connection: admin/crash shutdown
 * (57P01-57P03), connection exceptions (class 08), too many connections (53300).
 */
const PG_UNAVAILABLE_CODES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
/**
 * node-postgres raises these as plain Errors without a code, so their text is all there is to
 * match (pg 8's wording; a test covers each).
 */
const PG_UNAVAILABLE_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /^Client has encountered a connection error and is not queryable/,
  /^Client was closed and is not queryable/,
  /^Cannot use a pool after calling end on the pool/,
  /^Query read timeout/,
];

/**
 * Whether a database error means "PostgreSQL is unreachable or going away" (as opposed to a
 * bad query or a constraint). Looks through TypeORM's QueryFailedError to the driver's error.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err as Record<string, unknown> | null, depth = 0; e && depth < 4; depth++) {
    if (e instanceof DependencyUnavailableError) return e.dependency === POSTGRESQL;
    const code = e.code;
    if (typeof code === 'string' && (PG_UNAVAILABLE_CODES.has(code) || NETWORK_CODES.has(code))) return true;
    const message = e.message;
    if (typeof message === 'string' && PG_UNAVAILABLE_MESSAGES.some((re) => re.test(message))) return true;
    // AggregateError (a host with several addresses refusing), TypeORM's driverError, a cause.
    const inner = (e.errors as unknown[] | undefined)?.[0] ?? e.driverError ?? e.cause;
    e = (inner ?? null) as Record<string, unknown> | null;
  }
  return false;
}

/** The dependency an error says is down, or null when it is some other failure. */
export function unavailableDependency(err: unknown): string | null {
  if (err instanceof DependencyUnavailableError) return err.dependency;
  return isDatabaseUnavailable(err) ? POSTGRESQL : null;
}
