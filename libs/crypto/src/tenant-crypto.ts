import type { KeyRingEntry } from '@app/config';
import { blindIndex, type TokenizeOptions } from './blind-index';
import { DataKeyDestroyedError, KeyRingError } from './crypto.errors';
import { type DataKey, generateDataKey, unwrapDataKey, wrapDataKey } from './data-key';
import type { DataKeyStore } from './data-key-store';
import { deriveBlindIndexKey, derivePiiHashKey } from './derived-keys';
import { blobKeyId } from './envelope';
import { decryptValue, encryptValue, type ValueContext } from './value-cipher';

export interface TenantCryptoOptions {
  /**
   * How long an unwrapped data key stays cached in this process. After an erasure on another
   * replica, this one keeps decrypting for at most this long; keep it short. Default 30 s.
   */
  cacheTtlMs?: number;
  now?: () => number;
}

interface CacheEntry {
  key: DataKey;
  expires: number;
}

/**
 * Envelope encryption for tenant data: each tenant's values are encrypted with its own data key,
 * stored only wrapped by the `ENCRYPTION_KEY` ring. Destroying the data key (`shred`) makes the
 * tenant's values, blind index and PII hashes unrecoverable. Nest-free; the app provides the store.
 */
export class TenantCrypto {
  private readonly cache = new Map<string, CacheEntry>();
  /** HKDF output per cached data key object: derived once, gone with the key (weakly held). */
  private readonly indexKeys = new WeakMap<DataKey, Buffer>();
  private readonly cacheTtlMs: number;
  private readonly now: () => number;
  /**
   * Counts {@link forget}s: a key read from the store before a forget (a shred) is not cached
   * after it, or the process would keep sealing under a destroyed key for `cacheTtlMs`.
   */
  private forgets = 0;

  constructor(
    private readonly ring: readonly KeyRingEntry[],
    private readonly store: DataKeyStore,
    options: TenantCryptoOptions = {},
  ) {
    if (!ring.length) throw new KeyRingError();
    this.cacheTtlMs = options.cacheTtlMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** Encrypts a value under the tenant's current data key (created on first use). */
  async encrypt(ctx: ValueContext, plaintext: Buffer | string): Promise<Buffer> {
    return encryptValue(await this.currentDataKey(ctx.tenantId), ctx, plaintext);
  }

  /**
   * @throws DataKeyDestroyedError when the blob's data key was destroyed (erasure);
   *   DecryptionError when the blob was moved, altered, or its ring key is gone.
   */
  async decrypt(ctx: ValueContext, ciphertext: Buffer): Promise<Buffer> {
    const dataKey = await this.dataKeyById(ctx.tenantId, blobKeyId(ciphertext));
    return decryptValue(dataKey, ctx, ciphertext);
  }

  /**
   * Blind index of a text: store it beside an encrypted value, and compute it for a search query
   * too (same normalisation), then match tokens.
   */
  async blindIndex(tenantId: string, text: string, options?: TokenizeOptions): Promise<string[]> {
    const dataKey = await this.currentDataKey(tenantId);
    let indexKey = this.indexKeys.get(dataKey);
    if (!indexKey) {
      indexKey = deriveBlindIndexKey(dataKey);
      this.indexKeys.set(dataKey, indexKey);
    }
    return blindIndex(indexKey, text, options);
  }

  /** The tenant's key for the PII `hash` operator. */
  async piiHashKey(tenantId: string): Promise<Buffer> {
    return derivePiiHashKey(await this.currentDataKey(tenantId));
  }

  /** Crypto-shredding: destroys every data key of the tenant. Returns how many were destroyed. */
  async shred(tenantId: string): Promise<number> {
    this.forget(tenantId);
    const n = await this.store.destroyAll(tenantId);
    this.forget(tenantId);
    return n;
  }

  /** Drops cached keys of a tenant (e.g. when another replica announced an erasure). */
  forget(tenantId: string): void {
    this.forgets++;
    for (const k of this.cache.keys()) if (k.startsWith(`${tenantId}\u0000`)) this.cache.delete(k);
  }

  private async currentDataKey(tenantId: string): Promise<DataKey> {
    const cached = this.cached(`${tenantId}\u0000`);
    if (cached) return cached;
    const forgets = this.forgets;
    let stored = await this.store.findCurrent(tenantId);
    if (!stored) {
      const fresh = generateDataKey(tenantId);
      const kekId = this.ring[0]!.id;
      stored = await this.store.insertIfAbsent({
        tenantId,
        dataKeyId: fresh.id,
        wrapped: wrapDataKey(this.ring, fresh),
        kekId,
      });
    }
    const key = unwrapDataKey(this.ring, { tenantId, dataKeyId: stored.dataKeyId }, stored.wrapped);
    if (forgets === this.forgets) {
      this.remember(`${tenantId}\u0000`, key);
      this.remember(`${tenantId}\u0000${key.id}`, key);
    }
    return key;
  }

  private async dataKeyById(tenantId: string, dataKeyId: string): Promise<DataKey> {
    const cached = this.cached(`${tenantId}\u0000${dataKeyId}`);
    if (cached) return cached;
    const forgets = this.forgets;
    const stored = await this.store.findById(tenantId, dataKeyId);
    // Data keys are only ever deleted by `shred`: a missing one means the data was erased.
    if (!stored) throw new DataKeyDestroyedError();
    const key = unwrapDataKey(this.ring, { tenantId, dataKeyId }, stored.wrapped);
    if (forgets === this.forgets) this.remember(`${tenantId}\u0000${dataKeyId}`, key);
    return key;
  }

  private cached(id: string): DataKey | undefined {
    const entry = this.cache.get(id);
    if (!entry) return undefined;
    if (entry.expires > this.now()) return entry.key;
    this.cache.delete(id);
    return undefined;
  }

  private remember(id: string, key: DataKey): void {
    this.cache.set(id, { key, expires: this.now() + this.cacheTtlMs });
  }
}
