/**
 * How many upstream exchanges of one adapter may run at once (its keep-alive pool's sockets), and
 * what happens to the ones beyond: they wait in a FIFO for at most `queueTimeoutMs`, then fail with
 * a reason the caller chooses (a retryable ProviderError, so routing falls back). Without the gate
 * undici queues them silently behind the pool for as long as the upstream takes — with 64 sockets
 * and minute-long streams, a router holding 1000 streams left 936 of them waiting for a first byte.
 *
 * Pure bookkeeping (no I/O); a slot is held from `acquire` to `release` (the whole stream).
 */
export interface GateStats {
  capacity: number;
  inUse: number;
  waiting: number;
  /** Acquisitions that gave up after waiting `queueTimeoutMs` (or on a full queue), since start. */
  rejected: number;
}

interface Waiter {
  grant: () => void;
  timer: NodeJS.Timeout;
}

export class ConnectionGate {
  private inUse = 0;
  private rejected = 0;
  private readonly waiters: Waiter[] = [];

  /**
   * @param capacity slots (the pool's sockets per origin)
   * @param queueTimeoutMs longest wait for a slot; 0 = fail at once when all are taken
   * @param maxWaiting bound of the wait queue (beyond it acquisitions fail at once); by default as
   *   many as the pool holds, at least 64, so a small pool still absorbs a short burst
   */
  constructor(
    readonly capacity: number,
    private readonly queueTimeoutMs: number,
    private readonly maxWaiting = Math.max(capacity, 64),
  ) {}

  /** Takes a free slot now (true), or returns false without waiting. */
  tryAcquire(): boolean {
    if (this.inUse >= this.capacity || this.waiters.length > 0) return false;
    this.inUse++;
    return true;
  }

  /**
   * Waits for a slot. Rejects with `fail()` after `queueTimeoutMs`, at once when the wait queue is
   * full, or when `cancel` is called (the caller's abort). The returned cancel is a no-op once settled.
   */
  wait(fail: () => Error): { granted: Promise<void>; cancel: (err: Error) => void } {
    let cancel: (err: Error) => void = () => {};
    const granted = new Promise<void>((resolve, reject) => {
      if (this.tryAcquire()) return resolve();
      if (this.queueTimeoutMs <= 0 || this.waiters.length >= this.maxWaiting) {
        this.rejected++;
        return reject(fail());
      }
      const waiter: Waiter = {
        grant: () => resolve(),
        timer: setTimeout(() => {
          if (this.remove(waiter)) {
            this.rejected++;
            reject(fail());
          }
        }, this.queueTimeoutMs),
      };
      this.waiters.push(waiter);
      cancel = (err) => {
        if (this.remove(waiter)) reject(err);
      };
    });
    return { granted, cancel: (err) => cancel(err) };
  }

  /** Gives a slot back: to the longest waiter, or to the pool. */
  release(): void {
    const next = this.waiters.shift();
    if (next) {
      clearTimeout(next.timer);
      next.grant();
      return;
    }
    if (this.inUse > 0) this.inUse--;
  }

  stats(): GateStats {
    return {
      capacity: this.capacity,
      inUse: this.inUse,
      waiting: this.waiters.length,
      rejected: this.rejected,
    };
  }

  private remove(waiter: Waiter): boolean {
    const i = this.waiters.indexOf(waiter);
    if (i === -1) return false;
    this.waiters.splice(i, 1);
    clearTimeout(waiter.timer);
    return true;
  }
}
