import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { BackgroundPass } from '@app/common';
import { counter } from '@app/observability';
import { MemoryRepository } from './memory.repository';
import { MemoryWriteRepository } from './memory-write.repository';
import { MemorySettings } from './memory.settings';
import type { RecordLocation } from './memory.types';

/**
 * Deletes expired records in the background (reads already hide them). Safe on several
 * replicas: a record is deleted, and its quota released, only by the sweeper whose DELETE
 * removed it.
 */
@Injectable()
export class MemorySweeper implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('MemorySweeper');
  private readonly pass = new BackgroundPass(() => this.sweepOnce(Date.now()));
  private readonly swept = counter({
    name: 'atp_memory_expired_swept_total',
    help: 'Expired memory records deleted by the background sweeper',
  });

  constructor(
    private readonly repository: MemoryRepository,
    private readonly writes: MemoryWriteRepository,
    private readonly settings: MemorySettings,
  ) {}

  onModuleInit(): void {
    this.pass.every(this.settings.sweepIntervalMs, (err) =>
      this.logger.warn(`sweeping expired records failed: ${err.message}`),
    );
  }

  onApplicationShutdown(): Promise<void> {
    return this.pass.stop();
  }

  /** One pass (one at a time per process): deletes up to a few batches of expired records; returns how many. */
  sweep(): Promise<number> {
    return this.pass.run();
  }

  private async sweepOnce(now: number): Promise<number> {
    let total = 0;
    for (let batch = 0; batch < 20; batch++) {
      const expired = await this.repository.findExpired(now, this.settings.sweepBatch);
      if (!expired.length) break;
      const byTenant = new Map<string, RecordLocation[]>();
      for (const at of expired) byTenant.set(at.tenantId, [...(byTenant.get(at.tenantId) ?? []), at]);
      for (const [tenantId, records] of byTenant) {
        // Cached copies expire with the record itself (the cache TTL never outlives expires_at).
        total += (await this.writes.sweepTenant(tenantId, records, now)).length;
      }
      if (expired.length < this.settings.sweepBatch) break;
    }
    if (total) this.swept.inc(total);
    return total;
  }
}
