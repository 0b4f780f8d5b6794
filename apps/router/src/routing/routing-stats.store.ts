import { Inject, Injectable, Optional } from '@nestjs/common';
import { KV_STORE, type KvStore, RedisKvStore, RedisUnavailableError } from '@app/cache';
import { BufferPressure } from '@app/observability';
import { EMPTY_STATS, EWMA_ALPHA, type ModelStats, nextEwma } from './strategies';

const REFRESH_MS = 1000;

/**
 * Atomic update of one model's statistics hash with a batch of outcomes: ARGV = successes,
 * failures, the batch's mean latency (-1: none) and the EWMA weight of the whole batch.
 */
const RECORD = `
local s = tonumber(ARGV[1])
local f = tonumber(ARGV[2])
if s > 0 then redis.call('HINCRBY', KEYS[1], 's', s) end
if f > 0 then redis.call('HINCRBY', KEYS[1], 'f', f) end
local lat = tonumber(ARGV[3])
if lat >= 0 then
  local prev = tonumber(redis.call('HGET', KEYS[1], 'l') or '0')
  local nxt = lat
  if prev > 0 then nxt = tonumber(ARGV[4]) * lat + (1 - tonumber(ARGV[4])) * prev end
  redis.call('HSET', KEYS[1], 'l', tostring(nxt))
end
redis.call('PEXPIRE', KEYS[1], 604800000)
return 1`;

/** Outcomes are sent to Redis in one script call per model at most this often. */
const FLUSH_MS = 200;

interface Pending {
  successes: number;
  failures: number;
  latencySum: number;
  latencyCount: number;
}

/**
 * Success, failure and latency per provider+model, which the lowest-latency and learned
 * strategies read. With Redis every replica writes to and reads from the same hashes (so they
 * learn together); reads come from a local copy refreshed at most once a second, so routing
 * adds no Redis round trip to a request. Writes are batched: one script call per model every
 * 200 ms carries the counts and the batch's latency (weighted as that many EWMA steps).
 */
@Injectable()
export class RoutingStatsStore {
  private readonly local = new Map<string, ModelStats>();
  private readonly fetchedAt = new Map<string, number>();
  private readonly pending = new Map<string, Pending>();
  private flushing: Promise<void> | null = null;

  constructor(
    @Inject(KV_STORE) private readonly kv: KvStore,
    @Optional() pressure?: BufferPressure,
  ) {
    // Counts are summed per model until the next write: the buffer holds one entry per model in
    // the catalog, never one per request (the limit is never reached; it is there for the metric).
    pressure?.register({ name: 'routing_stats', limit: 10_000, depth: () => this.pending.size });
    if (kv instanceof RedisKvStore)
      kv.client.defineCommand('atpRecordStats', { numberOfKeys: 1, lua: RECORD });
  }

  private static id(provider: string, model: string): string {
    return `${provider}:${model}`;
  }

  /** The latest known statistics (never blocks; triggers a background refresh when stale). */
  get(provider: string, model: string): ModelStats {
    const id = RoutingStatsStore.id(provider, model);
    if (
      this.kv instanceof RedisKvStore &&
      this.kv.available() &&
      Date.now() - (this.fetchedAt.get(id) ?? 0) > REFRESH_MS
    ) {
      this.fetchedAt.set(id, Date.now());
      void this.refresh(id);
    }
    return this.local.get(id) ?? EMPTY_STATS;
  }

  /**
   * Reads the shared statistics now (tests and the first request of a model). With Redis down
   * the process's own copy answers (it counts this process's outcomes meanwhile).
   */
  async refresh(id: string): Promise<ModelStats> {
    const kv = this.kv;
    if (!(kv instanceof RedisKvStore)) return this.local.get(id) ?? EMPTY_STATS;
    try {
      const h = await kv.call((c) => c.hgetall(kv.key(`rstats:${id}`)));
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

  /**
   * Records one attempt's outcome; latency only for successes. Never throws. Resolves once the
   * outcome is in the shared store (the request path does not wait for it).
   */
  record(provider: string, model: string, ok: boolean, latencyMs: number | null): Promise<void> {
    const id = RoutingStatsStore.id(provider, model);
    const prev = this.local.get(id) ?? EMPTY_STATS;
    this.local.set(id, {
      successes: prev.successes + (ok ? 1 : 0),
      failures: prev.failures + (ok ? 0 : 1),
      latencyEwmaMs: latencyMs === null ? prev.latencyEwmaMs : nextEwma(prev.latencyEwmaMs, latencyMs),
    });
    if (!(this.kv instanceof RedisKvStore)) return Promise.resolve();
    let p = this.pending.get(id);
    if (!p) {
      p = { successes: 0, failures: 0, latencySum: 0, latencyCount: 0 };
      this.pending.set(id, p);
    }
    if (ok) p.successes++;
    else p.failures++;
    if (latencyMs !== null) {
      p.latencySum += latencyMs;
      p.latencyCount++;
    }
    this.flushing ??= new Promise<void>((resolve) => setTimeout(resolve, FLUSH_MS).unref()).then(() =>
      this.flush(),
    );
    return this.flushing;
  }

  private async flush(): Promise<void> {
    this.flushing = null;
    const kv = this.kv;
    if (!(kv instanceof RedisKvStore)) return;
    type StatsClient = typeof kv.client & {
      atpRecordStats(key: string, s: number, f: number, latency: number, alpha: number): Promise<number>;
    };
    const batch = [...this.pending];
    this.pending.clear();
    await Promise.all(
      batch.map(([id, p]) =>
        kv
          .call((c) =>
            (c as StatsClient).atpRecordStats(
              kv.key(`rstats:${id}`),
              p.successes,
              p.failures,
              p.latencyCount ? p.latencySum / p.latencyCount : -1,
              1 - (1 - EWMA_ALPHA) ** p.latencyCount,
            ),
          )
          .catch((err: unknown) => {
            // Redis down (or slow): keep the counts for a later flush, so what this process
            // learned meanwhile still reaches the shared statistics. One entry per model: bounded.
            if (err instanceof RedisUnavailableError) this.keep(id, p);
          }),
      ),
    );
  }

  private keep(id: string, p: Pending): void {
    const cur = this.pending.get(id);
    if (!cur) this.pending.set(id, p);
    else {
      cur.successes += p.successes;
      cur.failures += p.failures;
      cur.latencySum += p.latencySum;
      cur.latencyCount += p.latencyCount;
    }
  }
}
