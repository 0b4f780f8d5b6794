import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import type { Writable } from 'node:stream';
import type { Pool, PoolClient, QueryResult } from 'pg';
import type { DataSource } from 'typeorm';
import { isDatabaseUnavailable, POSTGRESQL } from '@app/common';
import { dependencyOutage } from '@app/observability';
import {
  defer,
  postgresText,
  sql,
  sqliteParams,
  type SqlDialect,
  type SqlResult,
  type SqlStatement,
} from './sql';
import { SqliteBusyError, sqliteForWrite } from './sqlite-connection';
import type { SqlTable } from './sql-table';

/**
 * A unit of work written once for both engines: a generator that yields statements and receives
 * their results. Plain code between the yields decides what to run next (and may throw to roll
 * back). A generator rather than an async callback because of SQLite, see {@link SqlRunner}.
 */
export type SqlPlan<T> = Generator<SqlStatement, T, SqlResult>;

export interface SqlRunnerOptions {
  /** SQLite: how long to wait for another caller's transaction on the shared connection. */
  busyTimeoutMs?: number;
}

/** Deferred: in pipeline mode it travels with the plan's first statement (it cannot fail alone). */
const BEGIN = defer(sql('BEGIN'));
const COMMIT = sql('COMMIT');
/** What a deferred statement gives the plan. */
const NO_RESULT: SqlResult = { rows: [], changes: 0 };

/** PostgreSQL takes at most 65 535 parameters in one statement. */
const PG_MAX_PARAMS = 65_535;
const BUSY_TIMEOUT_MS = 5_000;
const BUSY_POLL_MS = 2;
/** Prepared SQLite statements (and converted PostgreSQL texts) kept per runner, a bound in case a caller builds many shapes. */
const MAX_PREPARED = 500;

/**
 * The one way to run hand-written SQL (TypeORM repositories stay for plain entities): single
 * statements, and plans run atomically, over the app's TypeORM DataSource.
 *
 * PostgreSQL: straight on TypeORM's pg pool (no per-statement ORM work), a transaction on one
 * pooled connection. SQLite: TypeORM shares ONE connection between every caller, so an async
 * transaction there would take in other requests' statements; a plan runs synchronously inside
 * `BEGIN IMMEDIATE` on the raw better-sqlite3 handle, where nothing else in the process can
 * interleave (and another process sharing the file waits for the write lock). Neither a plan nor
 * a statement ever runs inside a transaction someone else opened on that connection: they wait
 * for it to end, at most `busyTimeoutMs`, then fail with {@link SqliteBusyError}.
 */
export class SqlRunner {
  readonly dialect: SqlDialect;
  private readonly busyTimeoutMs: number;
  private sqlite: SqliteHandle | null = null;
  /** PostgreSQL texts by statement text (bounded like SQLite's prepared statements). */
  private readonly pgTexts = new Map<string, string>();

  constructor(
    private readonly ds: DataSource,
    options: SqlRunnerOptions = {},
  ) {
    this.dialect = ds.options.type === 'postgres' ? 'postgres' : 'sqlite';
    this.busyTimeoutMs = options.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
  }

  /**
   * ` FOR UPDATE` on PostgreSQL, to lock the rows a plan reads before it writes them; nothing on
   * SQLite, where the plan's IMMEDIATE transaction already keeps every other writer out.
   */
  get forUpdate(): string {
    return this.dialect === 'postgres' ? ' FOR UPDATE' : '';
  }

  /**
   * ` FOR KEY SHARE` on PostgreSQL: the rows a plan reads stay until it commits (a DELETE of them
   * waits), while other plans may share them; nothing on SQLite (see {@link forUpdate}).
   */
  get forKeyShare(): string {
    return this.dialect === 'postgres' ? ' FOR KEY SHARE' : '';
  }

  /** One statement on its own (it commits by itself). */
  async run(statement: SqlStatement): Promise<SqlResult> {
    if (this.dialect === 'postgres') return toResult(await this.queryPostgres(this.pool(), statement));
    return this.runSqlite(await this.idleSqlite(), statement);
  }

  /** Runs a plan in one transaction and returns what the plan returns. */
  async transaction<T>(plan: () => SqlPlan<T>): Promise<T> {
    if (this.dialect === 'postgres') return this.transactionPostgres(plan);
    const sqlite = await this.idleSqlite();
    return sqlite.immediate(() => {
      const steps = plan();
      let step = steps.next();
      while (!step.done) step = steps.next(this.runSqlite(sqlite, step.value));
      return step.value;
    });
  }

  /**
   * The statements that insert `rows` into `table` (`suffix`: an `ON CONFLICT …` clause). On
   * PostgreSQL as few multi-row INSERTs as the parameter limit allows (one round trip each);
   * on SQLite one row each, which runs the same prepared statement again (cheaper there than
   * parsing a new multi-row statement for every batch size). For a plan: `yield*` them.
   */
  insertStatements<Row>(table: SqlTable<Row>, rows: readonly Row[], suffix = ''): SqlStatement[] {
    const perStatement = this.dialect === 'postgres' ? Math.floor(PG_MAX_PARAMS / table.columns.length) : 1;
    const statements: SqlStatement[] = [];
    for (let i = 0; i < rows.length; i += perStatement) {
      statements.push(table.insert(rows.slice(i, i + perStatement), suffix));
    }
    return statements;
  }

  /** Inserts `rows` atomically: one statement when they fit in one, else one transaction. */
  async insert<Row>(table: SqlTable<Row>, rows: readonly Row[], suffix = ''): Promise<void> {
    const statements = this.insertStatements(table, rows, suffix);
    if (statements.length === 0) return;
    if (statements.length === 1) {
      await this.run(statements[0]);
      return;
    }
    await this.transaction(function* () {
      for (const statement of statements) yield statement;
    });
  }

  /**
   * A transaction on one pooled connection. In pipeline mode (see dataSourceOptions) the
   * {@link defer}red statements go out without waiting: a plan's writes whose results it does
   * not read travel together, with the COMMIT after them — and in one write to the socket, which
   * is corked while statements are queued and uncorked before anything is awaited; BEGIN goes
   * with the first statement instead of costing a round trip of its own. Measured (router on
   * PostgreSQL + Redis, one connection, alternating with the build before, 6 rounds): 9.3–12.1
   * write syscalls a request against 12.3, p50 27.13 against 27.37 ms. At 50 connections the
   * batches are large and CPU per request did not move beyond the noise (three A/B runs: 1.02,
   * 0.93, 1.14×).
   */
  private async transactionPostgres<T>(plan: () => SqlPlan<T>): Promise<T> {
    const client = await this.pool().connect();
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
    /** Every statement sent, in order; each is awaited (or read for its error) below. */
    const sent: Promise<QueryResult>[] = [];
    const socket = client.pipeline ? socketOf(client) : null;
    let corked = false;
    const send = (statement: SqlStatement): Promise<QueryResult> => {
      if (socket && !corked) {
        socket.cork();
        corked = true;
      }
      const result = this.queryPostgres(client, statement);
      result.catch(() => undefined);
      sent.push(result);
      return result;
    };
    /** Writes what is queued; called before every wait for an answer. */
    const flush = () => {
      if (!corked) return;
      corked = false;
      socket!.uncork();
    };
    const waitFor = (statement: SqlStatement) => !(client.pipeline && statement.deferred);
    try {
      const begin = send(BEGIN);
      if (waitFor(BEGIN)) {
        flush();
        await begin;
      }
      const steps = plan();
      let step = steps.next();
      while (!step.done) {
        const result = send(step.value);
        if (waitFor(step.value)) {
          flush();
          step = steps.next(toResult(await result));
        } else step = steps.next(NO_RESULT);
      }
      const committed = send(COMMIT);
      flush();
      const commit = await committed;
      // COMMIT of a transaction that failed answers ROLLBACK: never report that as a success.
      if (commit.command !== 'COMMIT') throw new Error(`transaction ended with ${commit.command}`);
      return step.value;
    } catch (err) {
      flush();
      // The first statement that failed is the cause; those after it only report that the
      // transaction was already aborted.
      const cause = (await firstFailure(sent)) ?? err;
      if (sent.length) {
        await client.query('ROLLBACK').catch((e: Error) => {
          broken = e;
        });
      }
      throw cause;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  private queryPostgres(on: Pool | PoolClient, statement: SqlStatement): Promise<QueryResult> {
    return on.query(this.postgresTextOf(statement.text), statement.params as unknown[]);
  }

  /**
   * `?` → `$n`, remembered by text: the same few dozen statements (and batch sizes) come back on
   * every call, and the scan of a multi-row INSERT cost ~10 µs a call (CPU profile, nonstream-c50).
   */
  private postgresTextOf(text: string): string {
    let converted = this.pgTexts.get(text);
    if (converted === undefined) {
      converted = postgresText(text);
      if (this.pgTexts.size >= MAX_PREPARED) this.pgTexts.clear();
      this.pgTexts.set(text, converted);
    }
    return converted;
  }

  private runSqlite({ db, prepared: cache }: SqliteHandle, statement: SqlStatement): SqlResult {
    let prepared = cache.get(statement.text);
    if (!prepared) {
      prepared = db.prepare(statement.text);
      if (cache.size >= MAX_PREPARED) cache.clear();
      cache.set(statement.text, prepared);
    }
    const params = sqliteParams(statement.params);
    if (prepared.reader) return { rows: prepared.all(params) as Record<string, unknown>[], changes: 0 };
    return { rows: [], changes: prepared.run(params).changes };
  }

  /** The SQLite connection, once no other caller's transaction is open on it. */
  private async idleSqlite(): Promise<SqliteHandle> {
    const deadline = Date.now() + this.busyTimeoutMs;
    for (;;) {
      try {
        const db = sqliteForWrite(this.ds, 'SQL statement');
        if (this.sqlite?.db !== db) this.sqlite = sqliteHandle(db);
        return this.sqlite;
      } catch (err) {
        if (!(err instanceof SqliteBusyError) || Date.now() >= deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, BUSY_POLL_MS));
      }
    }
  }

  /** TypeORM's pg pool. */
  private pool(): Pool {
    return (this.ds.driver as unknown as { master: Pool }).master;
  }
}

/** What the runner keeps for a SQLite connection. */
interface SqliteHandle {
  db: SqliteDatabase;
  /** Prepared statements by text (hand-written SQL has a few dozen shapes). */
  prepared: Map<string, Statement>;
  /** Runs `work` inside `BEGIN IMMEDIATE` … `COMMIT` (ROLLBACK if it throws). */
  immediate: <T>(work: () => T) => T;
}

function sqliteHandle(db: SqliteDatabase): SqliteHandle {
  // One better-sqlite3 transaction function for every plan (building one costs more than a
  // small plan's statements).
  const immediate = db.transaction((work: () => unknown) => work()).immediate;
  return { db, prepared: new Map(), immediate: immediate as SqliteHandle['immediate'] };
}

/** The pooled client's socket (pg keeps it on its connection), to cork it; null if pg's shape changed. */
function socketOf(client: PoolClient): Writable | null {
  const stream = (client as unknown as { connection?: { stream?: Partial<Writable> } }).connection?.stream;
  return typeof stream?.cork === 'function' && typeof stream.uncork === 'function'
    ? (stream as Writable)
    : null;
}

function toResult(res: QueryResult): SqlResult {
  return { rows: res.rows ?? [], changes: res.rowCount ?? 0 };
}

/** The error of the first of these statements that failed, once all have answered. */
async function firstFailure(sent: readonly Promise<unknown>[]): Promise<unknown> {
  for (const statement of sent) {
    try {
      await statement;
    } catch (err) {
      return err;
    }
  }
  return undefined;
}
