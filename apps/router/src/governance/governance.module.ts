import { Module } from '@nestjs/common';
import { type KvStore, KV_STORE, type RedisKvStore } from '@app/cache';
import { PiiWorkers } from '@app/pii';
import { RoutingModule } from '../routing/routing.module';
import { UsageModule } from '../usage/usage.module';
import { AdmissionService } from './admission.service';
import { CallAuditService } from './call-audit.service';
import { GOVERNANCE_STORE, type GovernanceStore } from './governance.types';
import { GovernanceService } from './governance.service';
import { MemoryGovernanceStore } from './memory-governance.store';
import { RedisGovernanceStore } from './redis-governance.store';
import { SessionMemoryClient } from './session-memory.client';
import { TenantLimitsCache } from './tenant-limits.cache';

/**
 * Router governance (issue 6): limits, budgets, model allow-lists, prompt PII policy, call
 * audit, session memory. Counters live in Redis when REDIS_URL is set (shared by every replica), in process otherwise.
 * Needs AuditService in scope (AppModule imports AuditModule globally).
 */
@Module({
  imports: [RoutingModule, UsageModule],
  providers: [
    {
      provide: GOVERNANCE_STORE,
      inject: [KV_STORE],
      useFactory: (kv: KvStore): GovernanceStore =>
        kv.kind === 'redis' ? new RedisGovernanceStore(kv as RedisKvStore) : new MemoryGovernanceStore(),
    },
    TenantLimitsCache,
    AdmissionService,
    CallAuditService,
    GovernanceService,
    PiiWorkers,
    SessionMemoryClient,
  ],
  exports: [
    AdmissionService,
    CallAuditService,
    GovernanceService,
    SessionMemoryClient,
    TenantLimitsCache,
    GOVERNANCE_STORE,
  ],
})
export class GovernanceModule {}
