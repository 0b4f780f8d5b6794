import { Inject, Injectable, Logger, Module, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { KV_STORE, type KvStore } from '@app/cache';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { TenantCrypto } from '@app/crypto';
import { SqlRunner } from '../database/sql-runner';
import { DataKeyRepository } from './data-key.repository';

/** Channel on which an erasure tells every replica to drop the tenant's cached data keys. */
export const ERASURE_CHANNEL = 'memory:erased';

/** Listens for erasures on other replicas and forgets the tenant's cached data keys at once. */
@Injectable()
export class ErasureListener implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('ErasureListener');
  private unsubscribe: (() => Promise<void>) | null = null;

  constructor(
    private readonly crypto: TenantCrypto,
    @Inject(KV_STORE) private readonly kv: KvStore,
  ) {}

  async onModuleInit(): Promise<void> {
    try {
      this.unsubscribe = await this.kv.subscribe(ERASURE_CHANNEL, (tenantId) => this.crypto.forget(tenantId));
    } catch (err) {
      // Without the channel, cached keys still expire within TenantCrypto's cache TTL.
      this.logger.warn(`erasure channel unavailable: ${(err as Error).message}`);
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.unsubscribe?.().catch(() => undefined);
  }

  /** Announces an erasure to every replica (this one included). */
  async announce(tenantId: string): Promise<void> {
    this.crypto.forget(tenantId);
    await this.kv.publish(ERASURE_CHANNEL, tenantId).catch((err: Error) => {
      this.logger.warn(`could not announce an erasure: ${err.message}`);
    });
  }
}

/** Envelope encryption of tenant data: {@link TenantCrypto} over the `memory_data_keys` table. */
@Module({
  providers: [
    SqlRunner,
    DataKeyRepository,
    {
      provide: TenantCrypto,
      useFactory: (config: AppConfig, keys: DataKeyRepository) =>
        new TenantCrypto(config.encryptionKeys, keys),
      inject: [APP_CONFIG, DataKeyRepository],
    },
    ErasureListener,
  ],
  exports: [SqlRunner, DataKeyRepository, TenantCrypto, ErasureListener],
})
export class GatewayCryptoModule {}
