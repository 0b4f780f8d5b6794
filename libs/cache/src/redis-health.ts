import { DependencyUnavailableError } from '@app/common';
import type { DependencyOutage } from '@app/observability';

export const REDIS = 'Redis';

/** Redis did not answer in time, or is known to be down: nothing was (or will be) waited for. */
export class RedisUnavailableError extends DependencyUnavailableError {
  constructor(message: string, cause?: unknown) {
    super(REDIS, message, { cause });
    this.name = 'RedisUnavailableError';
  }
}

/**
 * Resolves or rejects like `p`, or rejects with `onTimeout()` after `ms`. An event-loop stall
 * (GC, a busy CPU) can fire the timer after the reply already arrived in the socket: the
 * timeout is only declared after one more turn of the loop has read pending I/O (setImmediate
 * runs after the poll phase), so a stalled process does not call a healthy Redis slow.
 */
export function within<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(
      () =>
        setImmediate(() => {
          if (settled) return;
          settled = true;
          reject(onTimeout());
        }),
      ms,
    );
    p.then(
      (v) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

export interface RedisHealthOptions {
  /** One PING; resolves when Redis answered. */
  ping: () => Promise<unknown>;
  /** Whether the connection is established (a PING on a closed connection is not tried). */
  connected: () => boolean;
  /** How long a confirming or probing PING may take. */
  confirmTimeoutMs: number;
  /** How often a PING is tried while Redis is down. */
  probeEveryMs: number;
  outage: DependencyOutage;
}

/**
 * The process's view of whether Redis answers, shared by every caller so an outage is detected
 * once and then costs nobody a wait. Down: a lost connection, a refused command, or a command
 * timeout that a PING confirms (a slow reply on a loaded machine does not take Redis down, nor
 * fail the request that waited for it). While down, a background PING every `probeEveryMs` brings it back up;
 * listeners registered with {@link onUp} then repair what the outage left (caches to
 * invalidate, settlements to retry).
 */
export class RedisHealth {
  private down = false;
  private confirming: Promise<boolean> | null = null;
  private probing = false;
  private probeTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly upListeners = new Set<() => void>();

  constructor(private readonly o: RedisHealthOptions) {}

  get up(): boolean {
    return !this.down;
  }

  /** Redis is unreachable (connection lost or refused): fail fast from now on. */
  markDown(err: unknown): void {
    if (this.closed) return;
    this.o.outage.failed(err, false, this);
    if (this.down) return;
    this.down = true;
    this.probeTimer = setInterval(() => void this.probe(), this.o.probeEveryMs);
    this.probeTimer.unref();
  }

  /**
   * A command timed out: is Redis alive? One PING (shared by every caller asking meanwhile)
   * answers. Resolves true if it answered within the confirm timeout, else marks Redis down
   * and resolves false. Redis answers one connection's commands in order, so a PING sent after
   * a command that answers means that command's reply has arrived too.
   */
  confirm(err: unknown): Promise<boolean> {
    if (this.down || this.closed) return Promise.resolve(false);
    this.confirming ??= this.pingOnce()
      .then(
        () => true,
        () => {
          this.markDown(err);
          return false;
        },
      )
      .finally(() => (this.confirming = null));
    return this.confirming;
  }

  /** The connection is (re)established: check at once instead of waiting for the next probe. */
  connected(): void {
    if (this.down) void this.probe();
  }

  /** @returns a function that removes the listener */
  onUp(listener: () => void): () => void {
    this.upListeners.add(listener);
    return () => this.upListeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    // A closed connection holds no outage open.
    if (this.down) this.o.outage.recovered(this);
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = null;
  }

  private pingOnce(): Promise<unknown> {
    if (!this.o.connected()) return Promise.reject(new Error('not connected'));
    return within(this.o.ping(), this.o.confirmTimeoutMs, () => new Error('ping timed out'));
  }

  private async probe(): Promise<void> {
    if (!this.down || this.probing || this.closed) return;
    this.probing = true;
    try {
      await this.pingOnce();
    } catch {
      return;
    } finally {
      this.probing = false;
    }
    this.down = false;
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = null;
    this.o.outage.recovered(this);
    for (const l of this.upListeners) {
      try {
        l();
      } catch {
        /* a listener's failure must not keep Redis marked down */
      }
    }
  }
}
