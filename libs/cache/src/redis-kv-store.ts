import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import Redis, { ReplyError, type RedisOptions } from 'ioredis';
import { dependencyOutage } from '@app/observability';
import { type KvStore, type RedisScript, type RedisScripts, withTimeout } from './kv-store';
import { REDIS, RedisHealth, RedisUnavailableError, within } from './redis-health';

/**
 * Connection settings for the command connection: nothing waits for a Redis that is not there.
 * No offline queue (a command issued while disconnected fails at once instead of waiting for a
 * reconnect), no retry of a command whose connection dropped, reconnects with a backoff capped at
 * 2 s for ever (an outage degrades the service, it never ends the process). `commandTimeout` is
 * only a net under callers that bypass {@link RedisKvStore.call}, which bounds everything else
 * by ATP_REDIS_TIMEOUT_MS.
 */
export function redisOptions(): RedisOptions {
  return {
    connectTimeout: 2000,
    commandTimeout: 2000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    // Reconnect on a failover's READONLY reply only; any other reply error is the command's own.
    reconnectOnError: (err) => err.message.startsWith('READONLY'),
    // Commands issued in the same tick leave in one write: under load the router's admit, settle
    // and stats calls of many requests share a syscall instead of one each.
    enableAutoPipelining: true,
  };
}

/** A confirming or probing PING may take this long (a loaded Redis is slow, not down). */
const CONFIRM_TIMEOUT_MS = 500;
const PROBE_EVERY_MS = 250;

const INCR_WITH_TTL: RedisScript = {
  name: 'atpIncrWithTtl',
  keys: 1,
  lua: `
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if tonumber(ARGV[2]) > 0 and redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return v`,
};

const shas = new WeakMap<RedisScript, string>();

/** The SHA-1 of a script's text, which EVALSHA names it by (computed once per script). */
function scriptSha(script: RedisScript): string {
  let sha = shas.get(script);
  if (!sha) {
    sha = createHash('sha1').update(script.lua).digest('hex');
    shas.set(script, sha);
  }
  return sha;
}

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

export interface RedisKvStoreOptions {
  /** ATP_REDIS_TIMEOUT_MS: the longest wait for one command (default 50 ms). */
  timeoutMs?: number;
}

/**
 * The Redis {@link KvStore}, and its {@link RedisScripts}. Every command goes through {@link call}:
 * bounded by the command timeout, refused at once (RedisUnavailableError) while {@link health}
 * says Redis is down.
 */
export class RedisKvStore implements KvStore, RedisScripts {
  readonly kind = 'redis' as const;
  private subscriber: Redis | null = null;
  private readonly handlers = new Map<string, Set<(m: string) => void>>();
  private closing = false;
  private firstConnect: Promise<void> | null = null;
  readonly timeoutMs: number;
  readonly health: RedisHealth;

  /** The raw client, for this store's own commands (and tests): features run scripts through {@link scripts}. */
  readonly client: Redis;

  constructor(
    private readonly url: string,
    readonly prefix: string,
    options: RedisKvStoreOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 50;
    const outage = dependencyOutage(REDIS);
    this.client = new Redis(url, redisOptions());
    this.health = new RedisHealth({
      ping: () => this.client.ping(),
      connected: () => this.client.status === 'ready',
      confirmTimeoutMs: Math.max(CONFIRM_TIMEOUT_MS, this.timeoutMs),
      probeEveryMs: PROBE_EVERY_MS,
      outage,
    });
    // Every error is handled here: an 'error' event without a listener would end the process.
    this.client.on('error', (err: Error) => {
      if (!this.closing) this.health.markDown(err);
    });
    this.client.on('close', () => {
      if (!this.closing) this.health.markDown(new Error('connection to Redis lost'));
    });
    this.client.on('ready', () => this.health.connected());
  }

  /** Resolves once connected, or after `waitMs` (a Redis that is down must not hold up start-up). */
  async connected(waitMs = 2000): Promise<void> {
    if (this.client.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.client.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      this.client.once('ready', done);
    });
  }

  available(): boolean {
    return this.health.up && this.client.status === 'ready';
  }

  onRecovered(listener: () => void): () => void {
    return this.health.onUp(listener);
  }

  scripts(): RedisScripts {
    return this;
  }

  /**
   * EVALSHA, and EVAL when Redis does not know the script (after a restart); EVAL caches it again.
   * Plain commands rather than ioredis's defineCommand: a command defined while an auto-pipeline
   * is open misaligns that pipeline's replies (ioredis #1931).
   */
  run(
    script: RedisScript,
    keys: readonly string[],
    args: readonly (string | number)[],
    timeoutMs?: number,
  ): Promise<unknown> {
    if (keys.length !== script.keys)
      throw new Error(`Redis script ${script.name} takes ${script.keys} keys, not ${keys.length}`);
    const sha = scriptSha(script);
    const argv = [...keys.map((k) => this.prefix + k), ...args];
    return this.call(async (c) => {
      try {
        return await c.evalsha(sha, script.keys, ...argv);
      } catch (err) {
        if (!(err instanceof ReplyError) || !(err as Error).message.startsWith('NOSCRIPT')) throw err;
        return c.eval(script.lua, script.keys, ...argv);
      }
    }, timeoutMs);
  }

  async deleteByPrefix(prefix: string, timeoutMs = 2_000): Promise<void> {
    const pattern = `${this.key(prefix)}*`;
    let cursor = '0';
    do {
      const [next, keys] = await this.call((c) => c.scan(cursor, 'MATCH', pattern, 'COUNT', 1000), timeoutMs);
      if (keys.length) await this.call((c) => c.del(...keys), timeoutMs);
      cursor = next;
    } while (cursor !== '0');
  }

  /**
   * Runs Redis commands. Refused at once while Redis is known to be down. After `timeoutMs`
   * without a reply a PING (shared with other callers) asks whether Redis is alive: if it
   * answers, this command's reply has arrived as well (replies come in order) and is returned,
   * so a slow Redis is never mistaken for a down one; if not, Redis is marked down and this call
   * fails. So a request waits `timeoutMs` plus the PING's 500 ms at most while an outage is
   * being confirmed, and not at all once it is known. A connection error marks Redis down at
   * once. Reply errors of the command itself (a script error, a wrong type) pass through.
   * @throws RedisUnavailableError
   */
  async call<T>(fn: (client: Redis) => Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    // A new store's first commands wait for its first connection (once, 2 s at most); a Redis
    // that is down at start-up then fails them fast like any outage.
    if (!this.firstConnect) this.firstConnect = this.connected(2000);
    await this.firstConnect;
    if (!this.available()) throw new RedisUnavailableError(`Redis is unavailable (${this.client.status})`);
    const command = fn(this.client);
    let timedOut = false;
    try {
      return await within(command, timeoutMs, () => {
        timedOut = true;
        return new RedisUnavailableError(`Redis did not answer within ${timeoutMs} ms`);
      });
    } catch (err) {
      if (timedOut) {
        if (!(await this.health.confirm(err))) throw err;
        return this.settled(command);
      }
      throw this.failure(err);
    }
  }

  /** A command whose reply has arrived (see {@link call}). */
  private async settled<T>(command: Promise<T>): Promise<T> {
    try {
      return await within(command, CONFIRM_TIMEOUT_MS, () => new RedisUnavailableError('Redis reply lost'));
    } catch (err) {
      throw this.failure(err);
    }
  }

  private failure(err: unknown): Error {
    if (err instanceof ReplyError || err instanceof RedisUnavailableError) return err as Error;
    this.health.markDown(err);
    return new RedisUnavailableError(`Redis is unavailable: ${(err as Error).message}`, err);
  }

  key(k: string): string {
    return this.prefix + k;
  }

  async get(key: string): Promise<string | null> {
    return this.call((c) => c.get(this.key(key)));
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    await this.call((c) =>
      ttlMs ? c.set(this.key(key), value, 'PX', Math.max(1, Math.round(ttlMs))) : c.set(this.key(key), value),
    );
  }

  async del(key: string): Promise<void> {
    await this.call((c) => c.del(this.key(key)));
  }

  async incrBy(key: string, by: number, ttlMs = 0): Promise<number> {
    return Number(await this.run(INCR_WITH_TTL, [key], [by, Math.round(ttlMs)]));
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.call((c) => c.publish(this.key(channel), message));
  }

  /**
   * Subscribes on a connection of its own. Resolves at once: the SUBSCRIBE waits in that
   * connection's queue while Redis is down, and ioredis subscribes again after every reconnect,
   * so a listener hears messages again as soon as Redis is back (messages sent meanwhile are lost).
   */
  async subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>> {
    const full = this.key(channel);
    if (!this.subscriber) {
      this.subscriber = new Redis(this.url, {
        ...redisOptions(),
        commandTimeout: undefined,
        enableOfflineQueue: true,
        maxRetriesPerRequest: null,
        enableAutoPipelining: false,
        autoResubscribe: true,
      });
      // The command connection's health tells the outage; this one only must not crash the process.
      this.subscriber.on('error', () => undefined);
      this.subscriber.on('message', (ch: string, msg: string) => {
        for (const h of this.handlers.get(ch) ?? []) h(msg);
      });
    }
    const subscriber = this.subscriber;
    let set = this.handlers.get(full);
    if (!set) {
      set = new Set();
      this.handlers.set(full, set);
      subscriber.subscribe(full).catch(() => undefined);
    }
    set.add(handler);
    return async () => {
      set.delete(handler);
      if (!set.size) {
        this.handlers.delete(full);
        if (subscriber.status === 'ready') await subscriber.unsubscribe(full).catch(() => undefined);
      }
    };
  }

  async ping(timeoutMs = 1500): Promise<void> {
    await this.call((c) => c.ping(), timeoutMs);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.health.close();
    await Promise.all(
      [this.client, this.subscriber].map(async (c) => {
        if (!c) return;
        try {
          if (c.status !== 'ready') throw new Error('not connected');
          await withTimeout(c.quit(), 1000, 'redis quit');
        } catch {
          c.disconnect();
        }
      }),
    );
  }
}
