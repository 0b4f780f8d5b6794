import { Logger } from '@nestjs/common';

export interface LastUsedWriter {
  recordLastUsed(tenantId: string, keyId: string, at: Date): Promise<void>;
}

/**
 * `last_used_at` off the request path: uses are noted in memory (a Map write), at most once per
 * key per `granularityMs`, and written in batches by {@link flush} (on a timer and at shutdown).
 */
export class LastUsedTracker {
  private readonly logger = new Logger('ApiKeyUsage');
  private readonly pending = new Map<string, { tenantId: string; at: number }>();
  private readonly noted = new Map<string, number>();
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly writer: LastUsedWriter,
    private readonly now: () => number,
    private readonly granularityMs = 60_000,
  ) {}

  note(tenantId: string, keyId: string): void {
    const now = this.now();
    const last = this.noted.get(keyId);
    if (last !== undefined && now - last < this.granularityMs) return;
    this.noted.set(keyId, now);
    this.pending.set(keyId, { tenantId, at: now });
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Writes what is pending; concurrent calls share one pass. Never throws. */
  flush(): Promise<void> {
    this.flushing ??= this.writePending().finally(() => (this.flushing = null));
    return this.flushing;
  }

  private async writePending(): Promise<void> {
    const batch = [...this.pending];
    this.pending.clear();
    const cutoff = this.now() - this.granularityMs;
    for (const [id, at] of this.noted) if (at < cutoff) this.noted.delete(id);
    let failed = 0;
    for (const [keyId, { tenantId, at }] of batch) {
      try {
        await this.writer.recordLastUsed(tenantId, keyId, new Date(at));
      } catch {
        failed++;
        this.noted.delete(keyId);
      }
    }
    if (failed)
      this.logger.warn(`could not record last use of ${failed} API key(s); will record the next use`);
  }
}
