import { sqliteDatetime } from './dialect';

/** The two engines the hand-written SQL runs on. */
export type SqlDialect = 'postgres' | 'sqlite';

/**
 * One statement: SQL with `?` placeholders and their values, in order. The runner binds the
 * values as parameters (never as text in the SQL) in each engine's own syntax.
 */
export interface SqlStatement {
  readonly text: string;
  readonly params: readonly unknown[];
  /** See {@link defer}. */
  readonly deferred?: boolean;
}

/** What a statement gave back: its rows (a SELECT, or `RETURNING`) and the rows it changed. */
export interface SqlResult {
  rows: Record<string, unknown>[];
  /** Rows changed by an INSERT, UPDATE or DELETE without `RETURNING`. */
  changes: number;
}

/** `sql('SELECT … WHERE tenant_id = ?', tenantId)`: a statement and its parameters. */
export const sql = (text: string, ...params: unknown[]): SqlStatement => ({ text, params });

/**
 * The statement as one of a transaction whose result the plan does not read (the plan receives
 * an empty result). On PostgreSQL it goes out at once, without waiting for the answers to the
 * statements before it (pipelined), and every later statement, the COMMIT included, follows it
 * on the wire. Its errors roll the transaction back as usual. On SQLite, and outside a
 * transaction, it runs like any statement.
 */
export const defer = ({ text, params }: SqlStatement): SqlStatement => ({ text, params, deferred: true });

/**
 * Quoted strings, quoted identifiers and comments (copied as they are), or a placeholder. The
 * statements are ours: no E'' or dollar-quoted strings, no PostgreSQL `?` operators.
 */
const PLACEHOLDER_SCAN = /'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\/\*[\s\S]*?\*\/|\?/g;

/** The statement's text for PostgreSQL: `?` becomes `$1`, `$2`, … in order. */
export function postgresText(text: string): string {
  let n = 0;
  return text.replace(PLACEHOLDER_SCAN, (match) => (match === '?' ? `$${++n}` : match));
}

/**
 * The values as SQLite stores them, the way TypeORM writes the same columns: SQLite has no
 * boolean or timestamp type (TypeORM stores 0/1 and UTC `YYYY-MM-DD HH:MM:SS.mmm` text), and
 * better-sqlite3 takes no `undefined`. (node-postgres binds all of these itself.)
 */
export function sqliteParams(params: readonly unknown[]): unknown[] {
  const out = new Array<unknown>(params.length);
  for (let i = 0; i < params.length; i++) {
    const v = params[i];
    out[i] =
      v === undefined ? null : typeof v === 'boolean' ? Number(v) : v instanceof Date ? sqliteDatetime(v) : v;
  }
  return out;
}

/** `?, ?, ?`: the placeholders of an `IN (…)` list of `n` values. */
export const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');
