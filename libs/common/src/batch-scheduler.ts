/**
 * The time a {@link BatchQueue} runs on. Injected so that a test decides when its timers fire
 * (the real one is {@link realScheduler}).
 */
export interface BatchScheduler {
  now(): number;
  /** Calls `fn` once after `ms`. A pending timer never keeps the process alive. @returns cancels it */
  after(ms: number, fn: () => void): () => void;
  /** Calls `fn` after the current event-loop turn, once pending I/O callbacks have run. */
  soon(fn: () => void): void;
}

export const realScheduler: BatchScheduler = {
  now: () => Date.now(),
  after(ms, fn) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
  soon(fn) {
    setImmediate(fn);
  },
};
