import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { KV_STORE, type KvStore } from '@app/cache';
import { TenantCrypto } from './tenant-crypto';

/** Channel on which an erasure tells every replica (of both services) to drop the tenant's cached data keys. */
export const ERASURE_CHANNEL = 'memory:erased';

/**
 * Listens for tenant erasures, wherever they happen, and forgets the tenant's cached data keys at
 * once: the memory gateway's own replicas and the router (whose stored responses use the same
 * data key) stop decrypting the moment the key is destroyed, not a cache TTL later.
 */
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
