import { Inject, Injectable } from '@nestjs/common';
import { KV_STORE, type KvStore, RedisKvStore } from '@app/cache';
import { EMPTY_STATS, EWMA_ALPHA, type ModelStats, nextEwma } from './strategies';

const REFRESH_MS = 1000;

/** Atomic update of one model's statistics hash. */
const RECORD = `
local ok = tonumber(ARGV[1])
if ok == 1 then redis.call('HINCRBY', KEYS[1], 's', 1) else redis.call('HINCRBY', KEYS[1], 'f', 1) end
local lat = tonumber(ARGV[2])
if lat >= 0 then
  local prev = tonumber(redis.call('HGET', KEYS[1], 'l') or '0')
  local nxt = lat
  if prev > 0 then nxt = tonumber(ARGV[3]) * lat + (1 - tonumber(ARGV[3])) * prev end
  redis.call('HSET', KEYS[1], 'l', tostring(nxt))
end
redis.call('PEXPIRE', KEYS[1], 604800000)
return 1`;

/**
 * Success, failure and latency per provider+model, which the lowest-latency and learned
 * strategies read. With Redis every replica writes to and reads from the same hashes (so they
 * learn together); reads come from a local copy refreshed at most once a second, so routing
 * adds no Redis round trip to a request.
 */
@Injectable()
export class RoutingStatsStore {
  private readonly local = new Map<string, ModelStats>();
  private readonly fetchedAt = new Map<string, number>();

  constructor(@Inject(KV_STORE) private readonly kv: KvStore) {
    if (kv instanceof RedisKvStore)
      kv.client.defineCommand('atpRecordStats', { numberOfKeys: 1, lua: RECORD });
  }

  private static id(provider: string, model: string): string {
    return `${provider}:${model}`;
  }

  /** The latest known statistics (never blocks; triggers a background refresh when stale). */
  get(provider: string, model: string): ModelStats {
    const id = RoutingStatsStore.id(provider, model);
    if (this.kv instanceof RedisKvStore && Date.now() - (this.fetchedAt.get(id) ?? 0) > REFRESH_MS) {
      this.fetchedAt.set(id, Date.now());
      void this.refresh(id);
    }
    return this.local.get(id) ?? EMPTY_STATS;
  }

  /** Reads the shared statistics now (tests and the first request of a model). */
  async refresh(id: string): Promise<ModelStats> {
    if (!(this.kv instanceof RedisKvStore)) return this.local.get(id) ?? EMPTY_STATS;
    try {
      const h = await this.kv.client.hgetall(this.kv.key(`rstats:${id}`));
      const stats = {
        successes: Number(h.s ?? 0),
        failures: Number(h.f ?? 0),
        latencyEwmaMs: Number(h.l ?? 0),
      };
      this.local.set(id, stats);
      return stats;
    } catch {
      return this.local.get(id) ?? EMPTY_STATS;
    }
  }

  async getFresh(provider: string, model: string): Promise<ModelStats> {
    return this.refresh(RoutingStatsStore.id(provider, model));
  }

  /** Records one attempt's outcome; latency only for successes. Never throws. */
  async record(provider: string, model: string, ok: boolean, latencyMs: number | null): Promise<void> {
    const id = RoutingStatsStore.id(provider, model);
    const prev = this.local.get(id) ?? EMPTY_STATS;
    this.local.set(id, {
      successes: prev.successes + (ok ? 1 : 0),
      failures: prev.failures + (ok ? 0 : 1),
      latencyEwmaMs: latencyMs === null ? prev.latencyEwmaMs : nextEwma(prev.latencyEwmaMs, latencyMs),
    });
    if (this.kv instanceof RedisKvStore) {
      const client = this.kv.client as typeof this.kv.client & {
        atpRecordStats(key: string, ok: number, latency: number, alpha: number): Promise<number>;
      };
      await client
        .atpRecordStats(this.kv.key(`rstats:${id}`), ok ? 1 : 0, latencyMs ?? -1, EWMA_ALPHA)
        .catch(() => undefined);
    }
  }
}
