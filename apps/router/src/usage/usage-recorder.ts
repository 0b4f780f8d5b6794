import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import { uuidv7 } from '@app/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { SqliteBusyError } from '@app/database';
import { BufferPressure, counter } from '@app/observability';
import type { UsageRecordEntity } from './usage-record.entity';
import { UsageRepository } from './usage.repository';

export type UsageInput = Omit<UsageRecordEntity, 'id' | 'createdAt'> & { createdAt?: Date };

const BATCH = 200;
const INTERVAL_MS = 500;
/**
 * Queued rows at which the router refuses new requests with 503 (BufferPressure). ~1 KB a row:
 * about 20 MB, reached after ~20 s of a PostgreSQL outage at 1000 requests/s.
 */
export const USAGE_BUFFER_LIMIT = 20_000;
/**
 * Longest a finishing call waits for its row's commit while the database is up but slow; after
 * that it answers anyway and the row stays queued (written later, lost only by a crash).
 */
export const DURABLE_WAIT_MS = 1_000;
const SQLITE_BUSY_RETRY_MS = 5;
const RESOLVED = Promise.resolve();

/**
 * Queues usage rows and writes them in batches. A failed write keeps the rows and retries;
 * shutdown flushes everything that is queued.
 *
 * Durable mode (ATP_DURABLE_RECORDS, the default): `record` starts a write at once and resolves
 * when the row is committed, and the call awaits it before its last byte. Calls finishing while a
 * write is in flight share the next one (a group commit), so the cost is one INSERT per
 * commit-time, not per call. While writes are failing (database down) it resolves at once: the
 * row waits in the bounded queue and the answer is not held up by the outage.
 */
@Injectable()
export class UsageRecorder implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(UsageRecorder.name);
  private queue: UsageRecordEntity[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  /** Rows whose caller awaits their commit. */
  private readonly commits = new Map<UsageRecordEntity, () => void>();
  /** The last write failed (not SQLite-busy): callers stop waiting for commits until one succeeds. */
  private failing = false;
  private busyRetry: NodeJS.Timeout | null = null;
  private flushScheduled = false;
  private writing = 0;
  readonly durable: boolean;
  private readonly written = counter({
    name: 'atp_usage_rows_written_total',
    help: 'Usage rows written to the database',
  });
  private readonly writeErrors = counter({
    name: 'atp_usage_write_errors_total',
    help: 'Failed usage batch writes (retried)',
  });

  constructor(
    private readonly repository: UsageRepository,
    @Optional() @Inject(APP_CONFIG) config?: AppConfig<'router'>,
    @Optional() pressure?: BufferPressure,
  ) {
    this.durable = config?.env.ATP_DURABLE_RECORDS ?? false;
    pressure?.register({ name: 'usage_rows', limit: USAGE_BUFFER_LIMIT, depth: () => this.pending });
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), INTERVAL_MS);
    this.timer.unref();
  }

  /**
   * Takes ownership of `input` (callers build it per request): it becomes the queued row.
   * Resolves once the row is committed in durable mode (at most DURABLE_WAIT_MS; at once while
   * the database is failing), at once otherwise. Never rejects.
   */
  record(input: UsageInput): Promise<void> {
    const row = input as UsageRecordEntity;
    row.createdAt = input.createdAt ?? new Date();
    // time-ordered: appended to the primary key's B-tree, not scattered over it
    row.id = uuidv7(row.createdAt.getTime());
    this.queue.push(row);
    if (!this.durable || this.failing) {
      if (this.queue.length >= BATCH) void this.flush();
      return RESOLVED;
    }
    const committed = new Promise<void>((resolve) => this.commits.set(row, resolve));
    this.flushSoon();
    return waitAtMost(committed, DURABLE_WAIT_MS);
  }

  /**
   * Starts a write after the current event-loop turn, so that every call finishing in that turn
   * shares its commit. Started at once, SQLite's synchronous write committed each row alone: the
   * router ran at 0.63x the throughput of background batches (bench, nonstream-c50).
   */
  private flushSoon(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  /** Rows not yet committed (queued, and the batch being written). */
  get pending(): number {
    return this.queue.length + this.writing;
  }

  /** Writes everything queued so far (one flush at a time). */
  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.drain().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.splice(0, BATCH);
      this.writing = batch.length;
      try {
        await this.repository.insertBatch(batch);
        this.writing = 0;
        this.written.inc(batch.length);
        this.failing = false;
        if (this.commits.size) for (const row of batch) this.committed(row);
      } catch (err) {
        this.queue.unshift(...batch);
        this.writing = 0;
        // Another caller's transaction holds SQLite's connection: not an error, retry very soon
        // when a caller awaits its commit (the next tick otherwise).
        if (err instanceof SqliteBusyError) {
          if (this.commits.size) this.retrySoon();
          return;
        }
        this.failing = true;
        this.releaseCommits();
        this.writeErrors.inc();
        this.logger.warn(
          `usage batch write failed, ${this.queue.length} rows kept for retry: ${(err as Error).message}`,
        );
        return;
      }
    }
  }

  private committed(row: UsageRecordEntity): void {
    const resolve = this.commits.get(row);
    if (!resolve) return;
    this.commits.delete(row);
    resolve();
  }

  /** The database is failing: nobody waits for a commit that will not come soon. */
  private releaseCommits(): void {
    for (const resolve of this.commits.values()) resolve();
    this.commits.clear();
  }

  private retrySoon(): void {
    if (this.busyRetry) return;
    this.busyRetry = setTimeout(() => {
      this.busyRetry = null;
      void this.flush();
    }, SQLITE_BUSY_RETRY_MS);
    this.busyRetry.unref();
  }

  /**
   * runService closes the HTTP server (draining in-flight requests and streams) before Nest's
   * shutdown hooks, so every row is queued by now, and the database is still open.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (let attempt = 0; attempt < 5 && this.queue.length; attempt++) {
      await this.flush();
      if (this.queue.length) await new Promise((r) => setTimeout(r, 200));
    }
    this.releaseCommits();
    if (this.queue.length)
      this.logger.error(`${this.queue.length} usage rows could not be written at shutdown`);
  }
}

/** `promise`, or nothing after `ms` (the caller goes on; what it waited for happens later). */
export function waitAtMost(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
