import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { PiiWorkers } from '@app/pii';
import { MemoryAdminController } from '../admin/memory-admin.controller';
import { TenantCryptoModule } from '@app/crypto';
import { PiiPolicy } from '../pii/pii-policy.service';
import { PiiController } from '../pii/pii.controller';
import { PiiService } from '../pii/pii.service';
import { MemoriesController } from './memories.controller';
import { MemoriesService } from './memories.service';
import { MemoryAudit } from './memory-audit';
import { MemoryCache } from './memory.cache';
import { MemoryCodec } from './memory.codec';
import { MemoryErasureService } from './memory-erasure.service';
import { MemoryMetrics } from './memory.metrics';
import { MemoryPii } from './memory-pii';
import { MemoryRepository } from './memory.repository';
import { MemoryWriteRepository } from './memory-write.repository';
import { MemorySearchRepository } from './memory-search.repository';
import { MemorySearchService } from './memory-search.service';
import { MemorySettings } from './memory.settings';
import { MemorySweeper } from './memory-sweeper';
import { NamespaceSettingsService } from './namespace-settings.service';

/**
 * The memory API (records, search, erasure, namespace settings) and the PII API. Needs the
 * global config, cache (KV_STORE), auth (TenantService) and audit (AuditService) modules.
 */
@Module({
  imports: [TenantCryptoModule],
  controllers: [MemoriesController, PiiController, MemoryAdminController],
  providers: [
    {
      provide: MemorySettings,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => MemorySettings.fromConfig(config),
    },
    MemoryRepository,
    MemoryWriteRepository,
    MemorySearchRepository,
    MemoryCache,
    MemoryCodec,
    MemoryMetrics,
    MemoryAudit,
    PiiPolicy,
    MemoryPii,
    MemoriesService,
    MemorySearchService,
    MemoryErasureService,
    NamespaceSettingsService,
    MemorySweeper,
    PiiService,
    PiiWorkers,
  ],
  exports: [MemorySettings, MemorySweeper, TenantCryptoModule],
})
export class MemoriesModule {}
