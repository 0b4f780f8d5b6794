import { BatchQueue } from '@app/common';
import type { BufferPressure } from '@app/observability';

export interface LastUsedWriter {
  recordLastUsed(tenantId: string, keyId: string, at: Date): Promise<void>;
}

interface LastUse {
  tenantId: string;
  keyId: string;
  at: number;
}

export interface LastUsedTrackerOptions {
  /** Registers the pending uses (one per key) as the `api_key_last_used` write buffer. */
  pressure?: BufferPressure;
  /** How often pending uses are written once {@link LastUsedTracker.start}ed. Default 10 s. */
  flushEveryMs?: number;
}

/**
 * `last_used_at` off the request path: uses are noted in memory (a Map lookup), at most once per
 * key per `granularityMs`, and written in batches (a {@link BatchQueue} that keeps one pending use
 * per key) on a timer and at shutdown. A write that fails is retried with the next batch.
 */
export class LastUsedTracker {
  private readonly noted = new Map<string, number>();
  private readonly queue: BatchQueue<LastUse>;

  constructor(
    private readonly writer: LastUsedWriter,
    private readonly now: () => number,
    private readonly granularityMs = 60_000,
    options: LastUsedTrackerOptions = {},
  ) {
    this.queue = new BatchQueue({
      name: 'api_key_last_used',
      write: (batch, written) => this.write(batch, written),
      maxBatch: 1_000,
      flushEveryMs: options.flushEveryMs ?? 10_000,
      // One pending timestamp per key: bounded by the number of keys in use.
      limit: 100_000,
      pressure: options.pressure,
      coalesce: { key: (use) => use.keyId, merge: (_older, newer) => newer },
      // A last-used time is refreshed by the key's next use: one try at shutdown.
      closeTimeoutMs: 0,
    });
  }

  note(tenantId: string, keyId: string): void {
    const now = this.now();
    const last = this.noted.get(keyId);
    if (last !== undefined && now - last < this.granularityMs) return;
    this.noted.set(keyId, now);
    this.queue.add({ tenantId, keyId, at: now });
  }

  /** Starts the periodic write. */
  start(): void {
    this.queue.start();
  }

  /** Writes what is pending; concurrent calls share one pass. Never throws (a failure stays pending). */
  async flush(): Promise<void> {
    await this.queue.flush().catch(() => undefined);
  }

  /** Stops the timer and writes what is pending (once). Never throws. */
  close(): Promise<void> {
    return this.queue.close();
  }

  private async write(batch: LastUse[], written: (part: LastUse[]) => void): Promise<void> {
    const cutoff = this.now() - this.granularityMs;
    for (const [id, at] of this.noted) if (at < cutoff) this.noted.delete(id);
    let failed: unknown = null;
    for (const use of batch) {
      try {
        await this.writer.recordLastUsed(use.tenantId, use.keyId, new Date(use.at));
        written([use]);
      } catch (err) {
        failed = err;
      }
    }
    if (failed) throw failed;
  }
}
