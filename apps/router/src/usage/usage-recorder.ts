import { type BeforeApplicationShutdown, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { uuidv7 } from '@app/common';
import { SqliteBusyError } from '@app/database';
import { counter } from '@app/observability';
import type { UsageRecordEntity } from './usage-record.entity';
import { UsageRepository } from './usage.repository';

export type UsageInput = Omit<UsageRecordEntity, 'id' | 'createdAt'> & { createdAt?: Date };

const BATCH = 200;
const INTERVAL_MS = 500;

/**
 * Queues usage rows and writes them in batches, so no request waits on the database. A failed
 * write keeps the rows and retries; shutdown flushes everything that is queued.
 */
@Injectable()
export class UsageRecorder implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(UsageRecorder.name);
  private queue: UsageRecordEntity[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private readonly written = counter({
    name: 'atp_usage_rows_written_total',
    help: 'Usage rows written to the database',
  });
  private readonly writeErrors = counter({
    name: 'atp_usage_write_errors_total',
    help: 'Failed usage batch writes (retried)',
  });

  constructor(private readonly repository: UsageRepository) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), INTERVAL_MS);
    this.timer.unref();
  }

  /** Takes ownership of `input` (callers build it per request): it becomes the queued row. */
  record(input: UsageInput): void {
    const row = input as UsageRecordEntity;
    row.createdAt = input.createdAt ?? new Date();
    // time-ordered: appended to the primary key's B-tree, not scattered over it
    row.id = uuidv7(row.createdAt.getTime());
    this.queue.push(row);
    if (this.queue.length >= BATCH) void this.flush();
  }

  get pending(): number {
    return this.queue.length;
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
      try {
        await this.repository.insertBatch(batch);
        this.written.inc(batch.length);
      } catch (err) {
        this.queue.unshift(...batch);
        // Another caller's transaction holds SQLite's connection: not an error, the next tick writes.
        if (err instanceof SqliteBusyError) return;
        this.writeErrors.inc();
        this.logger.warn(
          `usage batch write failed, ${this.queue.length} rows kept for retry: ${(err as Error).message}`,
        );
        return;
      }
    }
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
    if (this.queue.length)
      this.logger.error(`${this.queue.length} usage rows could not be written at shutdown`);
  }
}
