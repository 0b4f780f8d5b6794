import { EventEmitter } from 'node:events';
import type { KvStore, RedisScripts } from './kv-store';

interface Entry {
  value: string;
  expiresAt: number | null;
}

/** The embedded default: one process, same semantics as the Redis store. */
export class MemoryKvStore implements KvStore {
  readonly kind = 'memory' as const;
  private readonly data = new Map<string, Entry>();
  private readonly bus = new EventEmitter().setMaxListeners(0);
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(), 30_000).unref();
  }

  private live(key: string): Entry | undefined {
    const e = this.data.get(key);
    if (e && e.expiresAt !== null && e.expiresAt <= this.now()) {
      this.data.delete(key);
      return undefined;
    }
    return e;
  }

  private sweep(): void {
    const now = this.now();
    for (const [k, e] of this.data) if (e.expiresAt !== null && e.expiresAt <= now) this.data.delete(k);
  }

  async get(key: string): Promise<string | null> {
    return this.live(key)?.value ?? null;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.data.set(key, { value, expiresAt: ttlMs ? this.now() + ttlMs : null });
  }

  async del(key: string): Promise<void> {
    this.data.delete(key);
  }

  async incrBy(key: string, by: number, ttlMs?: number): Promise<number> {
    const e = this.live(key);
    if (e && !/^-?\d+$/.test(e.value)) throw new Error('value is not an integer');
    const next = (e ? Number(e.value) : 0) + by;
    this.data.set(key, {
      value: String(next),
      expiresAt: e ? e.expiresAt : ttlMs ? this.now() + ttlMs : null,
    });
    return next;
  }

  async publish(channel: string, message: string): Promise<void> {
    this.bus.emit(channel, message);
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>> {
    this.bus.on(channel, handler);
    return async () => {
      this.bus.off(channel, handler);
    };
  }

  async ping(): Promise<void> {}

  available(): boolean {
    return true;
  }

  onRecovered(): () => void {
    return () => undefined;
  }

  scripts(): RedisScripts | null {
    return null;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.bus.removeAllListeners();
  }
}
