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
 * TypeORM's SQLite form of a Date column: UTC `YYYY-MM-DD HH:MM:SS.mmm`. For writers that bypass
 * TypeORM's insert builder on SQLite (audit events, usage rows).
 */
export function sqliteDatetime(d: Date): string {
  // Rows written together mostly share their millisecond: format each millisecond once.
  const ms = d.getTime();
  if (ms === lastMs) return lastText;
  const iso = d.toISOString(); // throws for an invalid date, as before
  // `YYYY-MM-DDTHH:MM:SS.mmmZ` for years 0–9999; TypeORM's own padding for the rest.
  const pad = (v: number, width = 2) => `${'0'.repeat(width)}${v}`.slice(-width);
  const text =
    iso.length === 24
      ? `${iso.slice(0, 10)} ${iso.slice(11, 23)}`
      : `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
        `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
  lastMs = ms;
  lastText = text;
  return text;
}

let lastMs = NaN;
let lastText = '';
