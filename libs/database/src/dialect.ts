import type { QueryRunner } from 'typeorm';

/**
 * Column types that mean the same on PostgreSQL and SQLite, so one migration serves both
 * engines (house style: the same migrations run on both).
 */
export function columnTypes(qr: QueryRunner) {
  const pg = qr.connection.options.type === 'postgres';
  return {
    pg,
    timestamp: pg ? 'timestamptz' : 'datetime',
    json: pg ? 'jsonb' : 'text',
    uuid: pg ? 'uuid' : 'varchar',
    bytes: pg ? 'bytea' : 'blob',
    bigint: pg ? 'bigint' : 'integer',
    double: pg ? 'double precision' : 'real',
    now: pg ? 'now()' : "(strftime('%Y-%m-%dT%H:%M:%fZ','now'))",
  };
}
