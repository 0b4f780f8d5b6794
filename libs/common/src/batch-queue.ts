import { Logger } from '@nestjs/common';
import { type BufferPressure, counter } from '@app/observability';
import { type BatchScheduler, realScheduler } from './batch-scheduler';

/**
 * Writes one batch. Resolving means every item of it is written; rejecting means none is, except
 * the items passed to `written` before (a writer that commits a batch in parts, e.g. one
 * transaction per tenant, reports each part). The rest go back to the front of the queue, in order.
 */
export type BatchWriter<T> = (batch: T[], written: (part: readonly T[]) => void) => Promise<void>;

export interface BatchQueueOptions<T> {
  /** The `buffer` label of the metrics (atp_buffer_*, atp_batch_*) and the name in logs. */
  name: string;
  write: BatchWriter<T>;
  /** Items per write; this many waiting starts a write at once. */
  maxBatch: number;
  /** How often the timer ({@link BatchQueue.start}) writes what waits; the first retry delay too. */
  flushEveryMs: number;
  /**
   * Depth at which {@link BufferPressure} refuses NEW requests with 503. The queue itself takes
   * every item: requests in flight still add theirs, so nothing acknowledged is dropped.
   */
  limit: number;
  pressure?: BufferPressure;
  /** Last resort: past this depth the oldest waiting item is dropped (counted). Default: never. */
  dropOldestPast?: number;
  /** An item that waited longer than this is dropped instead of written (counted). Default: never. */
  maxAgeMs?: number;
  /** Items with the same key are merged while they wait (one write per key, not per add). */
  coalesce?: { key(item: T): string; merge(waiting: T, added: T): T };
  /** A failure that is no outage (SQLite busy): retried within milliseconds, waiters keep waiting. */
  isTransient?(err: unknown): boolean;
  /** Retries of a failing write back off from `flushEveryMs` up to this. Default max(flushEveryMs, 1 s). */
  maxBackoffMs?: number;
  /** How long {@link BatchQueue.close} keeps retrying. Default 5 s. */
  closeTimeoutMs?: number;
  /** Called with the items of each successful write (for counters of the queue's owner). */
  onWritten?(items: readonly T[]): void;
  /** Called after each failed write (not a transient one). */
  onFailed?(err: unknown): void;
  scheduler?: BatchScheduler;
}

interface Entry<T> {
  item: T;
  addedAt: number;
  /** Callers awaiting this item's commit. */
  waiters: (() => void)[] | null;
}

/** Retries of a transient failure (SQLite busy) while somebody waits, and how long flush() tries. */
const TRANSIENT_RETRY_MS = 5;
const TRANSIENT_WAIT_MS = 2_000;
const RESOLVED = Promise.resolve();

const batchMetrics = () => ({
  written: counter({
    name: 'atp_batch_items_written_total',
    help: 'Items a write buffer wrote, by buffer',
    labelNames: ['buffer'],
  }),
  failures: counter({
    name: 'atp_batch_write_failures_total',
    help: 'Failed batch writes of a write buffer (the items stay queued and are retried), by buffer',
    labelNames: ['buffer'],
  }),
  dropped: counter({
    name: 'atp_batch_items_dropped_total',
    help: 'Items a write buffer dropped (past its hard cap or its maximum age), by buffer',
    labelNames: ['buffer'],
  }),
});

/**
 * A bounded write buffer: items wait in order and are written in batches — when `maxBatch` wait,
 * every `flushEveryMs` (after {@link start}), after the current event-loop turn for a caller that
 * waits for its commit ({@link addAndWait}: the callers of one turn share one write, a group
 * commit), and on {@link close}. One write at a time; what arrives meanwhile goes in the next.
 *
 * Overflow policy: backpressure, not loss. The depth is registered with {@link BufferPressure},
 * which refuses new requests with 503 from `limit` on; the queue keeps taking what requests in
 * flight add. Only `dropOldestPast` and `maxAgeMs`, when set, drop (counted).
 *
 * A failed write keeps its items at the front, in order, and is retried with a backoff (up to
 * `maxBackoffMs`); a writer that commits in parts reports them, so nothing is written twice.
 * While writes fail, callers are not held: {@link addAndWait} resolves at once.
 */
export class BatchQueue<T> {
  private readonly logger = new Logger('BatchQueue');
  private readonly s: BatchScheduler;
  private readonly metrics: Record<'written' | 'failures' | 'dropped', { inc(n?: number): void }>;
  /** Waiting entries are `waiting[head…]`: the written front is dropped lazily (no O(n) shift per batch). */
  private waiting: Entry<T>[] = [];
  private head = 0;
  private inFlight: Entry<T>[] = [];
  private readonly byKey = new Map<string, Entry<T>>();
  private draining: Promise<void> | null = null;
  private waiterCount = 0;
  private failingNow = false;
  /** Failed attempts since the failures started. */
  private failures = 0;
  private backoffMs = 0;
  private retryAt = 0;
  private soonScheduled = false;
  private stopTimer: (() => void) | null = null;
  private closed = false;

  constructor(private readonly o: BatchQueueOptions<T>) {
    this.s = o.scheduler ?? realScheduler;
    const m = batchMetrics();
    this.metrics = {
      written: m.written.labels(o.name),
      failures: m.failures.labels(o.name),
      dropped: m.dropped.labels(o.name),
    };
    o.pressure?.register({ name: o.name, limit: o.limit, depth: () => this.depth });
  }

  /** Items not yet written: waiting, and the batch being written. */
  get depth(): number {
    return this.waiting.length - this.head + this.inFlight.length;
  }

  /** At its bound: new requests should be refused (BufferPressure does it for the HTTP apps). */
  get full(): boolean {
    return this.depth >= this.o.limit;
  }

  /** The last write failed and none has succeeded since. */
  get failing(): boolean {
    return this.failingNow;
  }

  /** Starts the periodic write (Nest's onModuleInit of the owner; plain users call it once). */
  start(): void {
    if (this.stopTimer || this.closed) return;
    const tick = () => {
      this.stopTimer = this.s.after(this.o.flushEveryMs, tick);
      if (this.s.now() >= this.retryAt) this.kick();
    };
    this.stopTimer = this.s.after(this.o.flushEveryMs, tick);
  }

  /** Enqueues an item; never blocks and never drops it (see the overflow policy). */
  add(item: T): void {
    this.enqueue(item);
    if (this.closed) this.kick();
    else if (this.waiting.length - this.head >= this.o.maxBatch && this.s.now() >= this.retryAt) this.kick();
  }

  /**
   * Enqueues an item and resolves once it is written — or after `maxWaitMs` (it then stays
   * queued), at once while writes are failing or after close. Never rejects. With `soon`, the
   * write starts after this event-loop turn (a group commit) instead of at the next timer tick.
   */
  addAndWait(item: T, options: { maxWaitMs?: number; soon?: boolean } = {}): Promise<void> {
    if (this.failing || this.closed) {
      this.add(item);
      return RESOLVED;
    }
    const entry = this.enqueue(item);
    const committed = new Promise<void>((resolve) => {
      let done = false;
      let cancel: (() => void) | null = null;
      const release = () => {
        if (done) return;
        done = true;
        this.waiterCount--;
        cancel?.();
        resolve();
      };
      if (options.maxWaitMs !== undefined) cancel = this.s.after(options.maxWaitMs, release);
      this.waiterCount++;
      (entry.waiters ??= []).push(release);
    });
    if (options.soon) this.kickSoon();
    else if (this.waiting.length - this.head >= this.o.maxBatch) this.kick();
    return committed;
  }

  /** Writes everything queued, retrying a transient failure for 2 s. Rejects if a write fails (the items stay queued). */
  async flush(): Promise<void> {
    const transientUntil = this.s.now() + TRANSIENT_WAIT_MS;
    while (this.depth) {
      try {
        await this.drain();
      } catch (err) {
        if (!this.o.isTransient?.(err) || this.s.now() > transientUntil) throw err;
        await this.sleep(TRANSIENT_RETRY_MS);
      }
    }
  }

  /**
   * Stops the timer and writes everything, retrying with a backoff until `closeTimeoutMs`; what
   * is still unwritten then is logged (lost with the process). Items added later are written at once.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.stopTimer?.();
    this.stopTimer = null;
    const deadline = this.s.now() + (this.o.closeTimeoutMs ?? 5_000);
    for (let attempt = 0; this.depth; attempt++) {
      try {
        await this.flush();
      } catch (err) {
        if (this.s.now() >= deadline) {
          this.logger.error(
            `${this.o.name}: ${this.depth} items could not be written before shutdown: ${(err as Error).message}`,
          );
          break;
        }
        await this.sleep(Math.min(100 * 2 ** attempt, 1_000));
      }
    }
    this.releaseAll();
  }

  private enqueue(item: T): Entry<T> {
    const coalesce = this.o.coalesce;
    const key = coalesce?.key(item);
    if (key !== undefined) {
      const same = this.byKey.get(key);
      if (same) {
        same.item = coalesce!.merge(same.item, item);
        return same;
      }
    }
    // The clock is read only where an age is checked.
    const entry: Entry<T> = {
      item,
      addedAt: this.o.maxAgeMs === undefined ? 0 : this.s.now(),
      waiters: null,
    };
    this.waiting.push(entry);
    if (key !== undefined) this.byKey.set(key, entry);
    if (this.o.dropOldestPast !== undefined) {
      while (this.depth > this.o.dropOldestPast && this.waiting.length > this.head) {
        this.drop(this.waiting[this.head++]);
      }
    }
    return entry;
  }

  private kickSoon(): void {
    if (this.soonScheduled) return;
    this.soonScheduled = true;
    this.s.soon(() => {
      this.soonScheduled = false;
      this.kick();
    });
  }

  /** Starts a write in the background (a running one takes what waits in its next batch). */
  private kick(): void {
    if (this.draining || this.waiting.length === this.head) return;
    this.drain().catch((err: unknown) => {
      // SQLite busy: another transaction holds the connection for a moment; retry soon for
      // callers that wait, or at the next tick.
      if (this.o.isTransient?.(err) && this.waiterCount) this.s.after(TRANSIENT_RETRY_MS, () => this.kick());
    });
  }

  private drain(): Promise<void> {
    // A failure is handled once the drain is over, so that a caller it releases can start another.
    this.draining ??= this.drainLoop().then(
      () => {
        this.draining = null;
      },
      (err: unknown) => {
        this.draining = null;
        this.failed(err);
        throw err;
      },
    );
    return this.draining;
  }

  private async drainLoop(): Promise<void> {
    while (this.waiting.length > this.head) {
      const batch = this.take();
      if (batch.length) await this.writeBatch(batch);
    }
  }

  /** Moves the next batch out of `waiting`; items past their maximum age are dropped on the way. */
  private take(): Entry<T>[] {
    const end = Math.min(this.head + this.o.maxBatch, this.waiting.length);
    let batch = this.waiting.slice(this.head, end);
    this.head = end;
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
    if (this.o.coalesce) for (const e of batch) this.unindex(e);
    if (this.o.maxAgeMs !== undefined) {
      const oldest = this.s.now() - this.o.maxAgeMs;
      if (batch.some((e) => e.addedAt < oldest)) {
        for (const e of batch) if (e.addedAt < oldest) this.drop(e);
        batch = batch.filter((e) => e.addedAt >= oldest);
      }
    }
    return batch;
  }

  private async writeBatch(batch: Entry<T>[]): Promise<void> {
    this.inFlight = batch;
    const items = batch.map((e) => e.item);
    const done = new Set<T>();
    try {
      await this.o.write(items, (part) => part.forEach((item) => done.add(item)));
    } catch (err) {
      this.inFlight = [];
      const written = batch.filter((e) => done.has(e.item));
      if (written.length)
        this.committed(
          written,
          written.map((e) => e.item),
        );
      this.requeue(batch.filter((e) => !done.has(e.item)));
      throw err;
    }
    this.inFlight = [];
    this.committed(batch, items);
    if (this.failingNow) this.recovered();
  }

  private committed(entries: Entry<T>[], items: readonly T[]): void {
    this.metrics.written.inc(entries.length);
    this.o.onWritten?.(items);
    if (this.waiterCount) for (const e of entries) this.release(e);
  }

  /** Unwritten items go back to the front, in their order. */
  private requeue(entries: Entry<T>[]): void {
    if (!entries.length) return;
    this.waiting = entries.concat(this.waiting.slice(this.head));
    this.head = 0;
    if (this.o.coalesce) {
      for (const e of entries) {
        const key = this.o.coalesce.key(e.item);
        if (!this.byKey.has(key)) this.byKey.set(key, e);
      }
    }
  }

  /**
   * A failed write (not a transient one): back off, release the waiting callers. Logged when the
   * failures start and when they end, not per attempt (an outage is not a log line a second).
   */
  private failed(err: unknown): void {
    if (this.o.isTransient?.(err)) return;
    if (!this.failingNow) {
      this.failingNow = true;
      this.failures = 0;
      this.logger.warn(
        `${this.o.name}: write failed, ${this.depth} items kept and retried: ${(err as Error).message}`,
      );
    }
    this.failures++;
    const first = this.o.flushEveryMs;
    this.backoffMs = Math.min(
      Math.max(this.backoffMs * 2, first),
      this.o.maxBackoffMs ?? Math.max(first, 1_000),
    );
    this.retryAt = this.s.now() + this.backoffMs;
    this.metrics.failures.inc();
    this.o.onFailed?.(err);
    // Nobody waits for a commit that will not come soon (the items stay queued).
    this.releaseAll();
  }

  private recovered(): void {
    this.logger.log(`${this.o.name}: writing again after ${this.failures} failed attempt(s)`);
    this.failingNow = false;
    this.backoffMs = 0;
    this.retryAt = 0;
  }

  private drop(entry: Entry<T>): void {
    this.unindex(entry);
    this.release(entry);
    this.metrics.dropped.inc();
  }

  private unindex(entry: Entry<T>): void {
    const key = this.o.coalesce?.key(entry.item);
    if (key !== undefined && this.byKey.get(key) === entry) this.byKey.delete(key);
  }

  private release(entry: Entry<T>): void {
    const waiters = entry.waiters;
    if (!waiters) return;
    entry.waiters = null;
    for (const release of waiters) release();
  }

  private releaseAll(): void {
    if (!this.waiterCount) return;
    for (const e of this.inFlight) this.release(e);
    for (let i = this.head; i < this.waiting.length; i++) this.release(this.waiting[i]);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.s.after(ms, resolve));
  }
}
