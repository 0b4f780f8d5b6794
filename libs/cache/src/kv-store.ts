/** A Lua script Redis runs atomically. */
export interface RedisScript {
  /** For messages. */
  readonly name: string;
  /** How many of a call's arguments are keys (they come first: KEYS[1…]). */
  readonly keys: number;
  readonly lua: string;
}

/**
 * What only Redis does, for the features that share state between replicas through it: Lua
 * scripts (an atomic read-modify-write next to the data) and deleting keys by prefix.
 * {@link KvStore.scripts} gives it with Redis, null on the embedded default, where a feature uses
 * its in-process equivalent (or goes without). Keys are given without the deployment prefix.
 */
export interface RedisScripts {
  /** False while Redis is known to be down: calls then fail at once with RedisUnavailableError. */
  available(): boolean;
  /**
   * Runs `script` (EVALSHA; EVAL after a Redis restart) with `keys` then `args`. Bounded
   * like every command: ATP_REDIS_TIMEOUT_MS, or `timeoutMs`.
   * @throws RedisUnavailableError; a ReplyError for an error of the script itself
   */
  run(
    script: RedisScript,
    keys: readonly string[],
    args: readonly (string | number)[],
    timeoutMs?: number,
  ): Promise<unknown>;
  /** Deletes every key that starts with `prefix` (SCAN and DEL in pages: not atomic). */
  deleteByPrefix(prefix: string, timeoutMs?: number): Promise<void>;
}

/**
 * Raw key-value operations with atomic semantics, for what a cache cannot do: counters,
 * pub/sub, and (through {@link scripts}) Lua scripts. Redis when REDIS_URL is set, an in-process
 * equivalent otherwise. Keys are given without the deployment prefix; stores add it.
 */
export interface KvStore {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | null>;
  /** @param ttlMs expiry in milliseconds; none keeps the key until deleted. */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  del(key: string): Promise<void>;
  /** Atomically adds `by` and returns the new value; `ttlMs` is set when the key is created. */
  incrBy(key: string, by: number, ttlMs?: number): Promise<number>;
  publish(channel: string, message: string): Promise<void>;
  /** @returns a function that unsubscribes */
  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>>;
  /** Resolves when the store answers, rejects otherwise (bounded by `timeoutMs`). */
  ping(timeoutMs?: number): Promise<void>;
  /**
   * False while the store is known to be down (Redis: a lost connection, or a timeout a PING
   * confirmed); calls then fail at once with RedisUnavailableError. Always true in process.
   */
  available(): boolean;
  /** Called each time the store comes back after an outage. @returns remove the listener */
  onRecovered(listener: () => void): () => void;
  /** Lua scripts and the rest only Redis does; null in process. */
  scripts(): RedisScripts | null;
  close(): Promise<void>;
}

export const KV_STORE = Symbol('KV_STORE');

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
