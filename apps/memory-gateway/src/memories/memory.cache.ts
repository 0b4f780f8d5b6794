import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import {
  KV_STORE,
  type KvStore,
  type RedisScript,
  type RedisScripts,
  RedisUnavailableError,
  throttledErrorLogger,
} from '@app/cache';
import { counter } from '@app/observability';
import { MemorySettings } from './memory.settings';
import type { RecordLocation, StoredRecord } from './memory.types';

interface CachedRecord {
  v: number;
  s: number;
  c: number;
  u: number;
  e: number | null;
  /** Ciphertexts, base64: the cache never holds a plaintext value. */
  vc: string;
  ac: string | null;
}

/**
 * Stores `rev|payload` unless the key already holds a newer or equal revision. Every write goes
 * through it — the write-through after a commit, the tombstone of a delete and the fill after a
 * read miss — so a slow reader can never put back a record that a writer replaced or deleted.
 */
const SET_IF_NEWER: RedisScript = {
  name: 'atpMemorySetIfNewer',
  keys: 1,
  lua: `
local cur = redis.call('GET', KEYS[1])
if cur then
  local rev = tonumber(string.match(cur, '^(%d+)|'))
  if rev and rev >= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'PX', ARGV[3])
return 1`,
};

const TOMBSTONE = '-';
/** Every record entry's key starts with it (without the deployment prefix). */
const RECORD_PREFIX = 'mem:r:';
/** A tombstone only has to outlive the slowest concurrent read of the record it replaces. */
const TOMBSTONE_TTL_MS = 10_000;

/**
 * Cache entries a failed write may have left stale, remembered until Redis answers again. Past
 * this many, every record entry of the deployment is dropped on recovery instead.
 */
const MAX_STALE_KEYS = 50_000;

/** Orders the states of one record: updated time in ms, then version (a delete outranks both). */
export function revisionOf(record: { updatedAt: number; version: number }): number {
  return record.updatedAt * 1000 + (record.version % 999);
}

/**
 * Read-through cache of records as stored (ciphertext only), in Redis, so a GET of a hot key
 * does not touch the database. Writers replace or tombstone the entry after commit. Without
 * Redis there is no record cache: the embedded database is local, and an in-process cache would
 * go stale under a second process sharing the same file. A cache failure is a miss, never an error.
 *
 * Redis down or slow: the cache is bypassed (no request waits on it; reads and writes go to the
 * database). A write whose cache update failed leaves an entry that may be stale; its key is
 * remembered and tombstoned as soon as Redis answers again, so no read after recovery returns a
 * record older than what a write during the outage acknowledged.
 */
@Injectable()
export class MemoryCache implements OnModuleDestroy {
  private readonly logError = throttledErrorLogger(new Logger('MemoryCache'), 'memory cache');
  /** The record cache lives in Redis only: null without it. */
  private readonly redis: RedisScripts | null;
  private readonly lookups = counter({
    name: 'atp_memory_cache_lookups_total',
    help: 'Memory record cache lookups, by result',
    labelNames: ['result'],
  });
  private readonly staleKeys = new Set<string>();
  private staleOverflow = false;
  private repairTimer: NodeJS.Timeout | null = null;
  private readonly stopListening: () => void = () => undefined;

  constructor(
    @Inject(KV_STORE) private readonly kv: KvStore,
    private readonly settings: MemorySettings,
  ) {
    this.redis = kv.scripts();
    if (this.redis) this.stopListening = kv.onRecovered(() => void this.repair());
  }

  onModuleDestroy(): void {
    this.stopListening();
    if (this.repairTimer) clearTimeout(this.repairTimer);
  }

  get enabled(): boolean {
    return this.redis !== null;
  }

  async get(at: RecordLocation, now: number): Promise<StoredRecord | null> {
    if (!this.redis) return null;
    if (!this.redis.available()) {
      this.lookups.inc({ result: 'bypass' });
      return null;
    }
    let raw: string | null = null;
    try {
      raw = await this.kv.get(this.key(at));
    } catch (err) {
      if (!(err instanceof RedisUnavailableError)) this.logError(err as Error);
    }
    const record = raw ? fromCached(at, raw) : null;
    const hit = record !== null && (record.expiresAt === null || record.expiresAt > now);
    this.lookups.inc({ result: hit ? 'hit' : 'miss' });
    return hit ? record : null;
  }

  /** After a read miss, or after a write commits: stores the record unless a newer state is cached. */
  async put(record: StoredRecord, now: number): Promise<void> {
    const ttl = Math.min(this.settings.cacheTtlMs, (record.expiresAt ?? Infinity) - now);
    if (!this.redis || ttl < 1) return;
    const cached: CachedRecord = {
      v: record.version,
      s: record.sizeBytes,
      c: record.createdAt,
      u: record.updatedAt,
      e: record.expiresAt,
      vc: record.valueCiphertext.toString('base64'),
      ac: record.attrsCiphertext?.toString('base64') ?? null,
    };
    await this.setIfNewer(this.key(record), revisionOf(record), JSON.stringify(cached), Math.ceil(ttl));
  }

  /** After a delete commits: a tombstone, so no reader that started earlier can re-cache the record. */
  async deleted(
    tenantId: string,
    records: readonly { namespace: string; key: string }[],
    now: number,
  ): Promise<void> {
    if (!this.redis) return;
    const rev = now * 1000 + 999;
    for (let i = 0; i < records.length; i += 100) {
      await Promise.all(
        records
          .slice(i, i + 100)
          .map((r) => this.setIfNewer(this.key({ tenantId, ...r }), rev, TOMBSTONE, TOMBSTONE_TTL_MS)),
      );
    }
  }

  private async setIfNewer(key: string, rev: number, payload: string, ttlMs: number): Promise<void> {
    try {
      await this.redis!.run(SET_IF_NEWER, [key], [rev, payload, ttlMs]);
    } catch (err) {
      // Not written (or, after a timeout, maybe written later): the entry may be stale.
      this.markStale(key);
      if (!(err instanceof RedisUnavailableError)) this.logError(err as Error);
    }
  }

  private markStale(key: string): void {
    if (!this.staleOverflow) {
      if (this.staleKeys.size >= MAX_STALE_KEYS) {
        this.staleOverflow = true;
        this.staleKeys.clear();
      } else this.staleKeys.add(key);
    }
    // A lone timeout does not take Redis down (so no recovery will call repair): retry soon.
    if (!this.repairTimer && this.redis?.available()) {
      this.repairTimer = setTimeout(() => {
        this.repairTimer = null;
        if (this.redis?.available()) void this.repair();
      }, 1000);
      this.repairTimer.unref();
    }
  }

  /**
   * Redis is back: tombstones every entry a failed write may have left stale (a tombstone
   * outranks any revision written before now, so a slow reader cannot put an old one back).
   * After more failed writes than it remembers, drops every record entry instead.
   */
  async repair(now = Date.now()): Promise<void> {
    const redis = this.redis;
    if (!redis) return;
    if (this.staleOverflow) {
      this.staleOverflow = false;
      await redis.deleteByPrefix(RECORD_PREFIX).catch(() => (this.staleOverflow = true));
      return;
    }
    const keys = [...this.staleKeys];
    this.staleKeys.clear();
    const rev = now * 1000 + 999;
    for (let i = 0; i < keys.length; i += 100) {
      await Promise.all(
        keys.slice(i, i + 100).map((k) => this.setIfNewer(k, rev, TOMBSTONE, TOMBSTONE_TTL_MS)),
      );
    }
  }

  /** `/` cannot occur in a name, so no two locations share a cache key. */
  private key(at: RecordLocation): string {
    return `${RECORD_PREFIX}${at.tenantId}/${at.namespace}/${at.key}`;
  }
}

function fromCached(at: RecordLocation, raw: string): StoredRecord | null {
  const bar = raw.indexOf('|');
  const payload = raw.slice(bar + 1);
  if (bar < 0 || payload === TOMBSTONE) return null;
  try {
    const c = JSON.parse(payload) as CachedRecord;
    return {
      ...at,
      version: c.v,
      sizeBytes: c.s,
      createdAt: c.c,
      updatedAt: c.u,
      expiresAt: c.e,
      valueCiphertext: Buffer.from(c.vc, 'base64'),
      attrsCiphertext: c.ac === null ? null : Buffer.from(c.ac, 'base64'),
    };
  } catch {
    return null;
  }
}
