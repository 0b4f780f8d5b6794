import { Injectable } from '@nestjs/common';
import { ErasureListener, TenantCrypto } from '@app/crypto';
import type { Caller } from '@app/auth';
import { MemoryAudit } from './memory-audit';
import { MemoryCache } from './memory.cache';
import { MemoryMetrics, outcomeOf } from './memory.metrics';
import { MemoryWriteRepository } from './memory-write.repository';

export interface ErasureResult {
  /** Memory records deleted. */
  deleted: number;
  /** Data keys destroyed (crypto-shredding). */
  data_keys_destroyed: number;
}

/**
 * Tenant erasure: the data key goes first (crypto-shredding: from that instant every copy of the
 * tenant's ciphertext — rows, cache, backups — is unreadable), then the rows and cached copies.
 * Audit events stay: they hold no value, and the chain must keep verifying.
 */
@Injectable()
export class MemoryErasureService {
  constructor(
    private readonly crypto: TenantCrypto,
    private readonly repository: MemoryWriteRepository,
    private readonly cache: MemoryCache,
    private readonly erasures: ErasureListener,
    private readonly audit: MemoryAudit,
    private readonly metrics: MemoryMetrics,
  ) {}

  async eraseTenant(caller: Caller): Promise<ErasureResult> {
    const startedAt = performance.now();
    const tenantId = caller.tenantId;
    try {
      const destroyed = await this.crypto.shred(tenantId);
      await this.erasures.announce(tenantId);
      const { records, keys } = await this.repository.eraseTenant(tenantId);
      await this.cache.deleted(tenantId, keys, Date.now());
      this.metrics.observe('erase', 'success', startedAt);
      this.audit.record(caller, {
        action: 'memory.erase',
        resourceType: 'tenant',
        resourceId: tenantId,
        outcome: 'success',
        statusCode: 200,
      });
      return { deleted: records, data_keys_destroyed: destroyed };
    } catch (err) {
      this.metrics.observe('erase', outcomeOf(err), startedAt);
      this.audit.failure(caller, 'memory.erase', tenantId, err);
      throw err;
    }
  }
}
