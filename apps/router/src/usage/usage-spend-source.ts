import { Injectable } from '@nestjs/common';
import type { SpendSource } from '../limits/spend-source';
import { UsageRecorder } from './usage-recorder';
import { UsageRepository } from './usage.repository';

/** A budget's spend, summed from the usage rows. */
@Injectable()
export class UsageSpendSource implements SpendSource {
  constructor(
    private readonly recorder: UsageRecorder,
    private readonly repository: UsageRepository,
  ) {}

  async spentUsdSince(tenantId: string, keyId: string | null, since: Date): Promise<number> {
    // Rows still queued are spend too: write them first (a failure keeps them queued; the sum
    // then reads the database, which fails as well in an outage, or misses only those rows).
    await this.recorder.flush();
    return this.repository.sumCostSince(tenantId, keyId, since);
  }
}
