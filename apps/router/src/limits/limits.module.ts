import { Module } from '@nestjs/common';
import { type KvStore, KV_STORE } from '@app/cache';
import { UsageModule } from '../usage/usage.module';
import { AdmissionService } from './admission.service';
import { LIMITS_STORE, type LimitsStore } from './limits.types';
import { MemoryLimitsStore } from './memory-limits.store';
import { RedisLimitsStore } from './redis-limits.store';
import { TenantLimitsCache } from './tenant-limits.cache';

/**
 * Rate limits, concurrency and monthly budgets. Counters live in Redis when REDIS_URL is set
 * (shared by every replica), in process otherwise. UsageModule is imported for one provider
 * only, the SPEND_SOURCE a budget's month is seeded from (AdmissionService sees the port alone).
 */
@Module({
  imports: [UsageModule],
  providers: [
    {
      provide: LIMITS_STORE,
      inject: [KV_STORE],
      useFactory: (kv: KvStore): LimitsStore => {
        const redis = kv.scripts();
        return redis ? new RedisLimitsStore(redis) : new MemoryLimitsStore();
      },
    },
    TenantLimitsCache,
    AdmissionService,
  ],
  exports: [AdmissionService, TenantLimitsCache, LIMITS_STORE],
})
export class LimitsModule {}
