import type { Database as SqliteDatabase } from 'better-sqlite3';
import type { DataSource } from 'typeorm';

/** The better-sqlite3 connection TypeORM holds for a SQLite DataSource (one per process). */
export function sqliteConnection(ds: DataSource): SqliteDatabase {
  return (ds.driver as unknown as { databaseConnection: SqliteDatabase }).databaseConnection;
}

/** The shared SQLite connection is inside a transaction another caller opened: write later. */
export class SqliteBusyError extends Error {
  constructor(what: string) {
    super(`the SQLite connection is in another transaction; ${what} deferred`);
    this.name = 'SqliteBusyError';
  }
}

/**
 * The SQLite connection to write on now. TypeORM shares its one connection, and a writer that
 * bypasses TypeORM must never nest inside a transaction someone else has open on it.
 * @throws SqliteBusyError while such a transaction is open (the caller retries shortly)
 */
export function sqliteForWrite(ds: DataSource, what: string): SqliteDatabase {
  const db = sqliteConnection(ds);
  if (db.inTransaction) throw new SqliteBusyError(what);
  return db;
}
