import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import type { DataSource } from 'typeorm';

/** One SQL statement with `?` placeholders (rewritten to `$n` on PostgreSQL). */
export interface SqlStatement {
  sql: string;
  params: readonly unknown[];
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
    const qr = this.ds.createQueryRunner();
    try {
      return toResult(await qr.query(toPg(statement.sql), [...statement.params], true));
    } finally {
      await qr.release();
    }
  }

  private async transactionPg<T>(plan: () => SqlPlan<T>): Promise<T> {
    const qr = this.ds.createQueryRunner();
    await qr.connect();
    try {
      await qr.startTransaction();
      try {
        const gen = plan();
        let step = gen.next();
        while (!step.done) {
          const res = await qr.query(toPg(step.value.sql), [...step.value.params], true);
          step = gen.next(toResult(res));
        }
        await qr.commitTransaction();
        return step.value;
      } catch (err) {
        await qr.rollbackTransaction().catch(() => undefined);
        throw err;
      }
    } finally {
      await qr.release();
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

  private sqlite(): SqliteDatabase {
    return (this.ds.driver as unknown as { databaseConnection: SqliteDatabase }).databaseConnection;
  }
}

function toPg(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

function toResult(res: { records?: unknown[]; affected?: number | null }): SqlResult {
  const rows = (Array.isArray(res.records) ? res.records : []) as Record<string, unknown>[];
  return { rows, changes: res.affected ?? 0 };
}
