import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse as parsePgUrl } from 'pg-connection-string';
import type { DataSourceOptions, EntitySchema, MixedList } from 'typeorm';
import { isDatabaseUnavailable, POSTGRESQL } from '@app/common';
import type { DatabaseConfig } from '@app/config';
import { Logger } from '@nestjs/common';
import { dependencyOutage } from '@app/observability';
import { MIGRATIONS } from './migrations';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Entities = MixedList<Function | string | EntitySchema>;

const poolLogger = new Logger('PostgreSQL');

/**
 * An idle pooled connection failed. An outage is the reporter's (one line for all of them);
 * anything else (an idle-session timeout, say) is logged as what it is.
 */
function onPoolError(err: unknown): void {
  if (isDatabaseUnavailable(err)) dependencyOutage(POSTGRESQL).failed(err);
  else poolLogger.warn(`an idle pooled connection failed: ${(err as Error)?.message ?? String(err)}`);
}

/**
 * TypeORM options for PostgreSQL (DATABASE_URL, including Cloud SQL's `?host=/cloudsql/…`
 * socket form, which pg-connection-string understands) or embedded SQLite.
 */
export function dataSourceOptions(db: DatabaseConfig, entities: Entities = []): DataSourceOptions {
  const common = {
    entities,
    migrations: MIGRATIONS,
    synchronize: false,
    migrationsRun: false,
    logging: false,
  } as const;
  if (db.type === 'postgres') {
    const p = parsePgUrl(db.url);
    const ssl =
      p.ssl === true || (typeof p.ssl === 'object' && p.ssl !== null) ? (p.ssl as object | true) : undefined;
    return {
      ...common,
      type: 'postgres',
      host: p.host ?? undefined,
      port: p.port ? Number(p.port) : undefined,
      username: p.user ?? undefined,
      password: p.password ?? undefined,
      database: p.database ?? undefined,
      ssl,
      connectTimeoutMS: 5000,
      // pipeline: a connection sends a query without waiting for the answer to the one before;
      // SqlRunner sends a transaction's deferred writes that way (TypeORM waits for each answer
      // anyway, so nothing changes for it).
      extra: { max: 20, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 5000, pipeline: true },
      applicationName: 'atp',
      // An idle pooled connection the server closes (a stop, a restart, a network cut) is an
      // 'error' on the pool: TypeORM's default handler logs each one; the outage reporter logs
      // the outage once and counts the rest.
      poolErrorHandler: onPoolError,
    };
  }
  mkdirSync(dirname(db.path), { recursive: true, mode: 0o700 });
  return {
    ...common,
    type: 'better-sqlite3',
    database: db.path,
    enableWAL: true,
    // better-sqlite3 is built with WAL databases defaulting to NORMAL; said here so that the
    // guarantee is visible and `full` can be chosen (README "Shutdown and crashes").
    prepareDatabase: (conn: { pragma(source: string): unknown }) => {
      conn.pragma(`synchronous = ${db.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    },
    timeout: 10_000,
  };
}
