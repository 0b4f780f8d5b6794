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

/**
 * TypeORM's SQLite form of a Date column: UTC `YYYY-MM-DD HH:MM:SS.mmm`. SqlRunner binds Date
 * parameters on SQLite this way, so hand-written SQL reads and writes what TypeORM does.
 */
export function sqliteDatetime(d: Date): string {
  const iso = d.toISOString(); // throws for an invalid date, as TypeORM does
  // `YYYY-MM-DDTHH:MM:SS.mmmZ` for years 0–9999; TypeORM's own padding for the rest.
  if (iso.length === 24) return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
  const pad = (v: number, width = 2) => `${'0'.repeat(width)}${v}`.slice(-width);
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`
  );
}
