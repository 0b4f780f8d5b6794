import {
  Injectable,
  type OnApplicationShutdown,
  type OnModuleDestroy,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import { BufferPressure } from '@app/observability';
import { API_KEY_CACHE_TTL_MS } from '../auth.constants';
import { AuthClock } from '../clock';
import { AuthErrors } from '../errors';
import type { CredentialIdentity } from '../caller';
import { hashApiKey, isWellFormedApiKey } from './api-key.format';
import { type ApiKeyRecord, ApiKeyRepository } from './api-key.repository';
import { LastUsedTracker } from './last-used.tracker';
import { RevocationBus } from './revocation-bus';
import { VerifiedKeyCache } from './verified-key-cache';

const MAX_CACHED_KEYS = 10_000;

/**
 * Verifies API keys on the hot path: a well-formedness check, then the in-memory cache, then (at
 * most once per key per TTL and replica, concurrent misses sharing one query) the database.
 * Revocations arrive over the {@link RevocationBus}; the TTL bounds staleness if one is missed.
 */
@Injectable()
export class ApiKeyVerifier implements OnModuleInit, OnModuleDestroy, OnApplicationShutdown {
  private readonly cache: VerifiedKeyCache;
  private readonly inflight = new Map<string, Promise<ApiKeyRecord | null>>();
  readonly usage: LastUsedTracker;
  private stopListening: (() => Promise<void>) | null = null;
  /** Bumped on every revocation, so a lookup that raced with one does not re-cache the key. */
  private revocations = 0;

  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly bus: RevocationBus,
    private readonly clock: AuthClock,
    @Optional() pressure?: BufferPressure,
  ) {
    this.cache = new VerifiedKeyCache(API_KEY_CACHE_TTL_MS, MAX_CACHED_KEYS, () => this.clock.now());
    this.usage = new LastUsedTracker(keys, () => this.clock.now(), undefined, { pressure });
  }

  async onModuleInit(): Promise<void> {
    this.stopListening = await this.bus.listen((keyId) => this.evict(keyId));
    this.usage.start();
  }

  /** Before the database closes (TypeORM closes in onApplicationShutdown): write pending uses. */
  async onModuleDestroy(): Promise<void> {
    await this.usage.close();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stopListening?.();
  }

  /** @throws AtpError 401 `invalid_api_key` */
  async verify(key: string): Promise<CredentialIdentity> {
    if (!isWellFormedApiKey(key)) throw AuthErrors.invalidApiKey('The API key is malformed');
    const hash = hashApiKey(key);
    let record = this.cache.get(hash);
    if (record === undefined) record = await this.load(hash);
    if (!record) throw AuthErrors.invalidApiKey();
    if (record.expiresAt && record.expiresAt.getTime() <= this.clock.now()) {
      throw AuthErrors.invalidApiKey(`The API key expired at ${record.expiresAt.toISOString()}`);
    }
    this.usage.note(record.tenantId, record.id);
    return {
      tenantId: record.tenantId,
      subject: `api_key:${record.id}`,
      scopes: record.scopes,
      credentialId: record.id,
      type: 'api_key',
      keyLimits: record.limits,
    };
  }

  /** Forget a key at once on this replica (the revoking one; others hear the bus). */
  evict(keyId: string): void {
    this.revocations++;
    this.cache.evictKey(keyId);
  }

  private load(hash: string): Promise<ApiKeyRecord | null> {
    let pending = this.inflight.get(hash);
    if (!pending) {
      const seen = this.revocations;
      pending = this.keys
        .findActiveKeyByHash(hash)
        .then((record) => {
          if (seen === this.revocations) this.cache.set(hash, record);
          return record;
        })
        .finally(() => this.inflight.delete(hash));
      this.inflight.set(hash, pending);
    }
    return pending;
  }
}
