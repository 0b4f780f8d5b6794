import type { BeforeApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  KV_STORE,
  type KvStore,
  type RedisScript,
  type RedisScripts,
  RedisUnavailableError,
} from '@app/cache';
import { BatchQueue } from '@app/common';
import { BufferPressure } from '@app/observability';
import { EMPTY_STATS, EWMA_ALPHA, type ModelStats, nextEwma } from './strategies';

const REFRESH_MS = 1000;

/**
 * Atomic update of one model's statistics hash with a batch of outcomes: ARGV = successes,
 * failures, the batch's mean latency (-1: none) and the EWMA weight of the whole batch.
 */
const RECORD: RedisScript = {
  name: 'atpRecordStats',
  keys: 1,
  lua: `
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
return 1`,
};

/** One model's statistics hash: {successes, failures, latency EWMA} (nil when unknown). */
const READ: RedisScript = {
  name: 'atpReadStats',
  keys: 1,
  lua: `return redis.call('HMGET', KEYS[1], 's', 'f', 'l')`,
};

/** Outcomes are sent to Redis in one script call per model at most this often. */
const FLUSH_MS = 200;

/** The outcomes of one model not yet sent: summed per model while they wait. */
interface Outcomes {
  id: string;
  successes: number;
  failures: number;
  latencySum: number;
  latencyCount: number;
}

const sum = (a: Outcomes, b: Outcomes): Outcomes => ({
  id: a.id,
  successes: a.successes + b.successes,
  failures: a.failures + b.failures,
  latencySum: a.latencySum + b.latencySum,
  latencyCount: a.latencyCount + b.latencyCount,
});

/**
 * Success, failure and latency per provider+model, which the lowest-latency and learned
 * strategies read. With Redis every replica writes to and reads from the same hashes (so they
 * learn together); reads come from a local copy refreshed at most once a second, so routing
 * adds no Redis round trip to a request. Writes are batched (a {@link BatchQueue} that sums the
 * outcomes per model): one script call per model every 200 ms carries the counts and the batch's
 * latency (weighted as that many EWMA steps). With Redis down the counts wait, summed, and are
 * sent once it answers.
 */
@Injectable()
export class RoutingStatsStore implements OnModuleInit, BeforeApplicationShutdown {
  private readonly local = new Map<string, ModelStats>();
  private readonly fetchedAt = new Map<string, number>();
  private readonly redis: RedisScripts | null;
  private readonly queue: BatchQueue<Outcomes> | null = null;

  constructor(@Inject(KV_STORE) kv: KvStore, @Optional() pressure?: BufferPressure) {
    this.redis = kv.scripts();
    if (this.redis)
      this.queue = new BatchQueue({
        name: 'routing_stats',
        write: (batch, written) => this.send(batch, written),
        maxBatch: 1_000,
        flushEveryMs: FLUSH_MS,
        // One entry per model in the catalog, never one per request: the limit is never reached
        // (it is there for the metric).
        limit: 10_000,
        pressure,
        coalesce: { key: (o) => o.id, merge: sum },
        // Learned statistics are advisory: one try at shutdown.
        closeTimeoutMs: 0,
      });
  }

  onModuleInit(): void {
    this.queue?.start();
  }

  /** Before CacheModule closes Redis (onApplicationShutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.queue?.close();
  }

  private static id(provider: string, model: string): string {
    return `${provider}:${model}`;
  }

  /** The latest known statistics (never blocks; triggers a background refresh when stale). */
  get(provider: string, model: string): ModelStats {
    const id = RoutingStatsStore.id(provider, model);
    if (this.redis?.available() && Date.now() - (this.fetchedAt.get(id) ?? 0) > REFRESH_MS) {
      this.fetchedAt.set(id, Date.now());
      void this.refresh(id);
    }
    return this.local.get(id) ?? EMPTY_STATS;
  }

  /**
   * Reads the shared statistics now. With Redis down the process's own copy answers (it counts
   * this process's outcomes meanwhile).
   */
  private async refresh(id: string): Promise<ModelStats> {
    if (!this.redis) return this.local.get(id) ?? EMPTY_STATS;
    try {
      const [s, f, l] = (await this.redis.run(READ, [`rstats:${id}`], [])) as (string | null)[];
      const stats = { successes: Number(s ?? 0), failures: Number(f ?? 0), latencyEwmaMs: Number(l ?? 0) };
      this.local.set(id, stats);
      return stats;
    } catch {
      return this.local.get(id) ?? EMPTY_STATS;
    }
  }

  /** The shared statistics read now (the console shows them). */
  async getFresh(provider: string, model: string): Promise<ModelStats> {
    return this.refresh(RoutingStatsStore.id(provider, model));
  }

  /**
   * Records one attempt's outcome; latency only for successes. Never throws. Resolves once the
   * outcome is in the shared store, or at once while Redis is failing (the request path does not
   * wait for it).
   */
  record(provider: string, model: string, ok: boolean, latencyMs: number | null): Promise<void> {
    const id = RoutingStatsStore.id(provider, model);
    const prev = this.local.get(id) ?? EMPTY_STATS;
    this.local.set(id, {
      successes: prev.successes + (ok ? 1 : 0),
      failures: prev.failures + (ok ? 0 : 1),
      latencyEwmaMs: latencyMs === null ? prev.latencyEwmaMs : nextEwma(prev.latencyEwmaMs, latencyMs),
    });
    if (!this.queue) return Promise.resolve();
    return this.queue.addAndWait({
      id,
      successes: ok ? 1 : 0,
      failures: ok ? 0 : 1,
      latencySum: latencyMs ?? 0,
      latencyCount: latencyMs === null ? 0 : 1,
    });
  }

  /**
   * One script call per model, in parallel. Redis down (or slow): those counts stay queued, so
   * what this process learned meanwhile still reaches the shared statistics. Any other error (a
   * script error) drops them: retrying would fail the same way.
   */
  private async send(batch: Outcomes[], written: (part: Outcomes[]) => void): Promise<void> {
    const redis = this.redis!;
    let unavailable: unknown = null;
    await Promise.all(
      batch.map((o) =>
        redis
          .run(
            RECORD,
            [`rstats:${o.id}`],
            [
              o.successes,
              o.failures,
              o.latencyCount ? o.latencySum / o.latencyCount : -1,
              1 - (1 - EWMA_ALPHA) ** o.latencyCount,
            ],
          )
          .then(
            () => written([o]),
            (err: unknown) => {
              if (err instanceof RedisUnavailableError) unavailable = err;
              else written([o]);
            },
          ),
      ),
    );
    if (unavailable) throw unavailable;
  }
}
