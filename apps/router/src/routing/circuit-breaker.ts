import { type KvStore, MemoryKvStore } from '@app/cache';

export interface CircuitBreakerOptions {
  /** Failures within `windowMs` that open the circuit. */
  failureThreshold: number;
  windowMs: number;
  /** How long an open circuit rejects before letting traffic probe again (half-open). */
  openMs: number;
}

export const DEFAULT_BREAKER: CircuitBreakerOptions = {
  failureThreshold: 5,
  windowMs: 30_000,
  openMs: 30_000,
};

/**
 * A circuit per provider+model whose state lives in the KvStore, so with Redis every replica
 * sees the same open circuit. Open = a key with a TTL; failures = a windowed counter. After the
 * open period the next failure (the counter still counts the window) re-opens at once; a success
 * resets the counter.
 *
 * With Redis down (or slow) every call falls back to an in-process store of this replica's own:
 * its circuits still open on its own failures, and routing never waits on an unreachable Redis.
 */
export class CircuitBreaker {
  /** This process's own circuits, used while the shared store does not answer. */
  private readonly own: MemoryKvStore;
  /** Last known open/closed state per circuit, so routing reads Redis at most once a second per circuit. */
  private readonly known = new Map<string, { open: boolean; at: number }>();
  /** When this process last reset each failure counter (see recordSuccess). */
  private readonly resetAt = new Map<string, number>();

  constructor(
    private readonly kv: KvStore,
    private readonly options: CircuitBreakerOptions = DEFAULT_BREAKER,
    private readonly refreshMs = 1000,
    private readonly now: () => number = Date.now,
    private readonly resetEveryMs = 100,
  ) {
    this.own = new MemoryKvStore(now);
  }

  /** The shared store when it answers, else this process's own. */
  private async withStore<T>(fn: (kv: KvStore) => Promise<T>): Promise<T> {
    if (this.kv.available()) {
      try {
        return await fn(this.kv);
      } catch {
        /* unreachable or slow: this process's own copy answers */
      }
    }
    return fn(this.own);
  }

  private static key(provider: string, model: string, part: 'open' | 'fails'): string {
    return `cb:${part}:${provider}:${model}`;
  }

  /**
   * Whether the circuit is open. A state read less than `refreshMs` ago is answered from memory,
   * so the hot path waits on Redis at most once a second per circuit; another replica's change
   * is seen within about a second.
   */
  async isOpen(provider: string, model: string): Promise<boolean> {
    const key = CircuitBreaker.key(provider, model, 'open');
    const known = this.known.get(key);
    if (known && this.now() - known.at < this.refreshMs) return known.open;
    return this.read(key);
  }

  /** Reads the shared state now (bypassing the local copy). */
  async isOpenNow(provider: string, model: string): Promise<boolean> {
    return this.read(CircuitBreaker.key(provider, model, 'open'));
  }

  private async read(key: string): Promise<boolean> {
    const open = await this.withStore(async (kv) => (await kv.get(key)) !== null);
    this.known.set(key, { open, at: this.now() });
    return open;
  }

  /** @returns true when this failure opened the circuit */
  async recordFailure(provider: string, model: string): Promise<boolean> {
    this.resetAt.delete(CircuitBreaker.key(provider, model, 'fails'));
    const fails = await this.withStore((kv) =>
      kv.incrBy(CircuitBreaker.key(provider, model, 'fails'), 1, this.options.windowMs),
    );
    if (fails >= this.options.failureThreshold) {
      const key = CircuitBreaker.key(provider, model, 'open');
      await this.withStore((kv) => kv.set(key, String(this.now()), this.options.openMs));
      this.known.set(key, { open: true, at: this.now() });
      return true;
    }
    return false;
  }

  /**
   * A success resets the failure count. At most one reset per `resetEveryMs` per circuit (a DEL
   * per successful request was a Redis write on every call), except right after a failure seen
   * here: so 5 failures are only counted together if they come within that span of each other
   * with no reset between.
   */
  async recordSuccess(provider: string, model: string): Promise<void> {
    const key = CircuitBreaker.key(provider, model, 'fails');
    const last = this.resetAt.get(key);
    const now = this.now();
    if (last !== undefined && now - last < this.resetEveryMs) return;
    this.resetAt.set(key, now);
    await this.withStore((kv) => kv.del(key));
  }
}
