/**
 * Tells long-running work (SSE streams, calls still waiting on an upstream) that the shutdown
 * grace is about to run out, so it can end cleanly — an error event the client can retry on, its
 * usage billed and flushed — before the process exits. runService fires it; one per process (the
 * process is what exits).
 */
export class ShutdownNotice {
  private listeners = new Set<() => void>();
  private firedAt: number | null = null;

  get due(): boolean {
    return this.firedAt !== null;
  }

  /** Calls `listener` once when the notice fires (at once if it already has). Returns an unsubscribe. */
  subscribe(listener: () => void): () => void {
    if (this.firedAt !== null) {
      queueMicrotask(listener);
      return () => undefined;
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  fire(): number {
    if (this.firedAt !== null) return 0;
    this.firedAt = Date.now();
    const list = [...this.listeners];
    this.listeners.clear();
    for (const listener of list) listener();
    return list.length;
  }

  /** Tests only: the notice is per process, the tests boot many apps in one. */
  reset(): void {
    this.firedAt = null;
    this.listeners.clear();
  }
}

export const shutdownNotice = new ShutdownNotice();

/**
 * When, after SIGTERM, unfinished streams are ended: early enough that their error event, usage
 * row and audit event are written before the grace ends (Cloud Run kills 10 s after SIGTERM; the
 * default grace is 8 s, so streams end at 6 s and the flush has 2 s, plus the 1 s past the grace
 * before the forced exit). A short grace keeps half of itself for the flush.
 */
export function streamCutoffMs(graceMs: number): number {
  return Math.max(0, graceMs - Math.min(2_000, graceMs / 2));
}
