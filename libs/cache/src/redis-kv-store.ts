import { Logger } from '@nestjs/common';
import Redis, { type RedisOptions } from 'ioredis';
import { type KvStore, withTimeout } from './kv-store';

/** Connection settings that never give up: Redis outages degrade /ready, never kill the process. */
export function redisOptions(): RedisOptions {
  return {
    connectTimeout: 2000,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
    reconnectOnError: () => true,
    // Commands issued in the same tick leave in one write: under load the router's admit, settle
    // and stats calls of many requests share a syscall instead of one each.
    enableAutoPipelining: true,
  };
}

const INCR_WITH_TTL = `
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if tonumber(ARGV[2]) > 0 and redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return v`;

/** Logs a dependency's errors at most once per interval, so an outage does not flood the logs. */
export function throttledErrorLogger(
  logger: Logger,
  what: string,
  intervalMs = 60_000,
): (err: Error) => void {
  let last = 0;
  let suppressed = 0;
  return (err: Error) => {
    const now = Date.now();
    if (now - last < intervalMs) {
      suppressed++;
      return;
    }
    logger.warn(
      `${what} error: ${err.message}${suppressed ? ` (${suppressed} more since the last report)` : ''}`,
    );
    last = now;
    suppressed = 0;
  };
}

export class RedisKvStore implements KvStore {
  readonly kind = 'redis' as const;
  private readonly logger = new Logger('Redis');
  private subscriber: Redis | null = null;
  private readonly handlers = new Map<string, Set<(m: string) => void>>();

  /** The raw client, for Lua scripts and pipelines; keys must be built with {@link key}. */
  readonly client: Redis;

  constructor(
    private readonly url: string,
    readonly prefix: string,
  ) {
    this.client = new Redis(url, redisOptions());
    this.client.on('error', throttledErrorLogger(this.logger, 'redis'));
    this.client.defineCommand('atpIncrWithTtl', { numberOfKeys: 1, lua: INCR_WITH_TTL });
  }

  key(k: string): string {
    return this.prefix + k;
  }

  async get(key: string): Promise<string | null> {
    return this.client.get(this.key(key));
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    if (ttlMs) await this.client.set(this.key(key), value, 'PX', Math.max(1, Math.round(ttlMs)));
    else await this.client.set(this.key(key), value);
  }

  async del(key: string): Promise<void> {
    await this.client.del(this.key(key));
  }

  async incrBy(key: string, by: number, ttlMs = 0): Promise<number> {
    const c = this.client as Redis & { atpIncrWithTtl(k: string, by: number, ttl: number): Promise<number> };
    return Number(await c.atpIncrWithTtl(this.key(key), by, Math.round(ttlMs)));
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.client.publish(this.key(channel), message);
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>> {
    const full = this.key(channel);
    if (!this.subscriber) {
      this.subscriber = new Redis(this.url, {
        ...redisOptions(),
        maxRetriesPerRequest: null,
        enableAutoPipelining: false,
      });
      this.subscriber.on('error', throttledErrorLogger(this.logger, 'redis subscriber'));
      this.subscriber.on('message', (ch: string, msg: string) => {
        for (const h of this.handlers.get(ch) ?? []) h(msg);
      });
    }
    let set = this.handlers.get(full);
    if (!set) {
      set = new Set();
      this.handlers.set(full, set);
      await this.subscriber.subscribe(full);
    }
    set.add(handler);
    return async () => {
      set.delete(handler);
      if (!set.size) {
        this.handlers.delete(full);
        await this.subscriber?.unsubscribe(full).catch(() => undefined);
      }
    };
  }

  async ping(timeoutMs = 1500): Promise<void> {
    if (this.client.status !== 'ready') throw new Error(`redis is ${this.client.status}`);
    await withTimeout(this.client.ping(), timeoutMs, 'redis ping');
  }

  async close(): Promise<void> {
    await Promise.all(
      [this.client, this.subscriber].map(async (c) => {
        if (!c) return;
        try {
          await withTimeout(c.quit(), 1000, 'redis quit');
        } catch {
          c.disconnect();
        }
      }),
    );
  }
}
