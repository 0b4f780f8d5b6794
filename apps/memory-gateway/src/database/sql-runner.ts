import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import { escapeLiteral, type Pool, type QueryResult } from 'pg';
import type { DataSource } from 'typeorm';
import { isDatabaseUnavailable, POSTGRESQL } from '@app/common';
import { sqliteConnection } from '@app/database';
import { dependencyOutage } from '@app/observability';

/** One SQL statement with `?` placeholders (rewritten to `$n` on PostgreSQL). */
export interface SqlStatement {
  sql: string;
  params: readonly unknown[];
  /** See {@link deferred}. */
  deferred?: boolean;
}

export interface SqlResult {
  rows: Record<string, unknown>[];
  /** Rows changed by INSERT/UPDATE/DELETE. */
  changes: number;
}

/**
 * A unit of work written once for both engines: a generator that yields statements and receives
 * their results. Plain code between the yields decides what to run next (and may throw to roll back).
 */
export type SqlPlan<T> = Generator<SqlStatement, T, SqlResult>;

export const sql = (text: string, ...params: unknown[]): SqlStatement => ({ sql: text, params });

/**
 * A statement of a transaction whose result the plan does not read (it receives an empty
 * result). On PostgreSQL it is sent later, in one round trip with the next statement or with the
 * COMMIT, so a plan's trailing writes cost one round trip and no row lock they take waits on this
 * process between the statement and the COMMIT. Its errors roll the transaction back as usual.
 */
export const deferred = (text: string, ...params: unknown[]): SqlStatement => ({
  sql: text,
  params,
  deferred: true,
});

const EMPTY: SqlResult = { rows: [], changes: 0 };

const BUSY_WAIT_MS = 5_000;

/**
 * Runs SQL plans atomically. PostgreSQL: a transaction on a pooled connection. SQLite: TypeORM
 * shares ONE connection between every caller, so an async transaction there would swallow other
 * requests' statements; instead the plan runs synchronously inside `BEGIN IMMEDIATE` on the raw
 * better-sqlite3 handle, where nothing else in the process can interleave.
 */
@Injectable()
export class SqlRunner {
  readonly pg: boolean;
  private readonly statements = new Map<string, Statement>();

  constructor(@InjectDataSource() private readonly ds: DataSource) {
    this.pg = ds.options.type === 'postgres';
  }

  /** Runs a plan in one transaction and returns what the generator returns. */
  async transaction<T>(plan: () => SqlPlan<T>): Promise<T> {
    return this.pg ? this.transactionPg(plan) : this.transactionSqlite(plan);
  }

  /** A single statement outside any transaction. */
  async run(statement: SqlStatement): Promise<SqlResult> {
    if (!this.pg) {
      // Never let a statement land inside another caller's open transaction (it could roll back).
      if (this.sqlite().inTransaction) await this.sqliteIdle();
      return this.execSqlite(statement);
    }
    return toResult(await this.pool().query(toPg(statement.sql), [...statement.params]));
  }

  /**
   * On the pool's raw client (no per-statement ORM work). Deferred statements wait in `batch` and
   * go out as one multi-statement simple query (values inlined as literals, since that protocol
   * takes no parameters) with the next statement, or with the COMMIT: PostgreSQL stops at the
   * first error of a batch, and the transaction is rolled back.
   */
  private async transactionPg<T>(plan: () => SqlPlan<T>): Promise<T> {
    const client = await this.pool().connect();
    const batch: string[] = ['BEGIN'];
    let begun = false;
    let broken: Error | undefined;
    // pg-pool listens for errors only on idle clients. A checked-out one with no listener turns
    // the server ending the session (57P01 on a fast stop, a reset on an immediate one) into an
    // "Unhandled 'error' event" that ends the process. The query in flight fails on its own; the
    // client is destroyed on release instead of going back to the pool.
    const onError = (err: Error) => {
      broken = err;
      if (isDatabaseUnavailable(err)) dependencyOutage(POSTGRESQL).failed(err);
    };
    client.on('error', onError);
    const send = async (): Promise<QueryResult> => {
      begun = true;
      const text = batch.join(';\n');
      batch.length = 0;
      const res = (await client.query(text)) as QueryResult | QueryResult[];
      return Array.isArray(res) ? res[res.length - 1]! : res;
    };
    try {
      const gen = plan();
      let step = gen.next();
      while (!step.done) {
        batch.push(inlineStatement(step.value));
        step = gen.next(step.value.deferred ? EMPTY : toResult(await send()));
      }
      batch.push('COMMIT');
      const commit = await send();
      // COMMIT of a transaction that failed answers ROLLBACK: never report that as a success.
      if (commit.command !== 'COMMIT') throw new Error(`transaction ended with ${commit.command}`);
      return step.value;
    } catch (err) {
      if (begun) {
        await client.query('ROLLBACK').catch((e: Error) => {
          broken = e;
        });
      }
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  private async transactionSqlite<T>(plan: () => SqlPlan<T>): Promise<T> {
    const db = this.sqlite();
    // Another caller's TypeORM transaction is open on the shared connection: wait for it.
    for (const deadline = Date.now() + BUSY_WAIT_MS; db.inTransaction;) {
      if (Date.now() > deadline) throw new Error('the SQLite connection stayed inside another transaction');
      await new Promise((r) => setTimeout(r, 2));
    }
    const tx = db.transaction((): T => {
      const gen = plan();
      let step = gen.next();
      while (!step.done) step = gen.next(this.execSqlite(step.value));
      return step.value;
    });
    return tx.immediate();
  }

  /** Waits until no transaction is open on the shared SQLite connection. */
  private async sqliteIdle(): Promise<void> {
    const db = this.sqlite();
    for (const deadline = Date.now() + BUSY_WAIT_MS; db.inTransaction;) {
      if (Date.now() > deadline) throw new Error('the SQLite connection stayed inside another transaction');
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  private execSqlite(statement: SqlStatement): SqlResult {
    let stmt = this.statements.get(statement.sql);
    if (!stmt) {
      stmt = this.sqlite().prepare(statement.sql);
      if (this.statements.size > 500) this.statements.clear();
      this.statements.set(statement.sql, stmt);
    }
    if (stmt.reader) return { rows: stmt.all(...statement.params) as Record<string, unknown>[], changes: 0 };
    return { rows: [], changes: stmt.run(...statement.params).changes };
  }

  /** TypeORM's pg pool (PostgreSQL only). */
  private pool(): Pool {
    return (this.ds.driver as unknown as { master: Pool }).master;
  }

  private sqlite(): SqliteDatabase {
    return sqliteConnection(this.ds);
  }
}

function toPg(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

/**
 * A statement with its `?` placeholders replaced by PostgreSQL literals (the simple query
 * protocol, which batches statements, takes no parameters). Strings go through pg's
 * `escapeLiteral`, bytes through `decode(hex)`, numbers must be finite.
 */
export function inlineStatement(statement: SqlStatement): string {
  let n = 0;
  const text = statement.sql.replace(/\?/g, () => literal(statement.params[n++]));
  if (n !== statement.params.length) throw new Error('SQL placeholder count does not match its parameters');
  return text;
}

function literal(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError('SQL parameter is not a finite number');
    // Parenthesised: `x - -1` would not parse if spaces were ever dropped (`--` starts a comment).
    return v < 0 ? `(${v})` : String(v);
  }
  if (typeof v === 'bigint') return v < 0n ? `(${v})` : String(v);
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'string') return escapeLiteral(v);
  // decode() rather than a '\x…' literal: no reliance on standard_conforming_strings.
  if (v instanceof Uint8Array) return `decode('${Buffer.from(v).toString('hex')}', 'hex')`;
  throw new TypeError(`unsupported SQL parameter type: ${typeof v}`);
}

function toResult(res: QueryResult): SqlResult {
  return { rows: res.rows ?? [], changes: res.rowCount ?? 0 };
}
