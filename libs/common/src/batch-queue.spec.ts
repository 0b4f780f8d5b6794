import { Logger } from '@nestjs/common';
import { register } from 'prom-client';
import { BufferPressure } from '@app/observability';
import { BatchQueue, type BatchQueueOptions, type BatchWriter } from './batch-queue';
import type { BatchScheduler } from './batch-scheduler';

/** Time that only moves when the test says so. */
class ManualScheduler implements BatchScheduler {
  private time = 1_000_000;
  private timers: { at: number; fn: () => void }[] = [];
  private soonFns: (() => void)[] = [];

  now(): number {
    return this.time;
  }

  after(ms: number, fn: () => void): () => void {
    const timer = { at: this.time + ms, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  soon(fn: () => void): void {
    this.soonFns.push(fn);
  }

  /** Runs what `soon` scheduled, then lets the promises it started settle. */
  async turn(): Promise<void> {
    const fns = this.soonFns;
    this.soonFns = [];
    for (const fn of fns) fn();
    await settle();
  }

  /** Moves the clock, firing every timer that falls due on the way, in order. */
  async advance(ms: number): Promise<void> {
    await settle();
    const end = this.time + ms;
    for (;;) {
      const next = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.time = next.at;
      next.fn();
      await settle();
    }
    this.time = end;
    await settle();
  }
}

/** Lets pending promise callbacks run (no timers involved). */
const settle = () => new Promise((r) => setImmediate(r));

/** A writer that records each batch and fails while `failures` is above zero. */
function recordingWriter() {
  const batches: number[][] = [];
  const state = { failures: 0 };
  const write: BatchWriter<number> = async (batch) => {
    batches.push([...batch]);
    if (state.failures > 0) {
      state.failures--;
      throw new Error('database down');
    }
  };
  return { write, batches, state };
}

describe('BatchQueue', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose']));

  let clock: ManualScheduler;
  const make = (write: BatchWriter<number>, options: Partial<BatchQueueOptions<number>> = {}) =>
    new BatchQueue<number>({
      name: 'test_items',
      write,
      maxBatch: 3,
      flushEveryMs: 100,
      limit: 10,
      scheduler: clock,
      ...options,
    });
  beforeEach(() => {
    clock = new ManualScheduler();
  });

  it('writes at once when a batch is full; items that arrive during a write go into the next', async () => {
    const { write, batches } = recordingWriter();
    const q = make(write);
    q.add(1);
    q.add(2);
    await settle();
    expect(batches).toEqual([]);
    q.add(3);
    expect(batches).toEqual([[1, 2, 3]]);
    for (let i = 4; i <= 7; i++) q.add(i);
    await settle();
    expect(batches).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(q.depth).toBe(0);
  });

  it('writes what waits on the timer, not before', async () => {
    const { write, batches } = recordingWriter();
    const q = make(write);
    q.start();
    q.add(1);
    q.add(2);
    await clock.advance(99);
    expect(batches).toEqual([]);
    await clock.advance(1);
    expect(batches).toEqual([[1, 2]]);
    expect(q.depth).toBe(0);
  });

  it('at its bound BufferPressure reports it full (new requests get 503), and it still takes every item', async () => {
    const pressure = new BufferPressure();
    const { write, batches } = recordingWriter();
    const q = make(write, { maxBatch: 100, limit: 5, pressure });
    for (let i = 1; i <= 4; i++) q.add(i);
    expect(pressure.full()).toBeNull();
    q.add(5);
    expect(pressure.full()).toMatchObject({ name: 'test_items', limit: 5 });
    q.add(6);
    expect(q.depth).toBe(6);
    await q.flush();
    expect(batches).toEqual([[1, 2, 3, 4, 5, 6]]);
    expect(pressure.full()).toBeNull();
    pressure.onModuleDestroy();
  });

  it('with a hard cap, drops the oldest waiting items past it and counts them', async () => {
    const { write, batches } = recordingWriter();
    const q = make(write, { name: 'capped_items', maxBatch: 100, dropOldestPast: 4 });
    for (let i = 1; i <= 6; i++) q.add(i);
    expect(q.depth).toBe(4);
    await q.flush();
    expect(batches).toEqual([[3, 4, 5, 6]]);
    expect(await register.getSingleMetricAsString('atp_batch_items_dropped_total')).toMatch(
      /atp_batch_items_dropped_total\{buffer="capped_items"\} 2/,
    );
  });

  it('drops items older than maxAgeMs instead of writing them', async () => {
    const { write, batches } = recordingWriter();
    const q = make(write, { maxBatch: 100, maxAgeMs: 1_000 });
    q.add(1);
    await clock.advance(600);
    q.add(2);
    await clock.advance(600);
    await q.flush();
    expect(batches).toEqual([[2]]);
  });

  it('a failed write keeps its items in order and retries them after a backoff, each written once', async () => {
    const { write, batches, state } = recordingWriter();
    const written: number[] = [];
    const q = make(write, { onWritten: (items) => written.push(...items), maxBackoffMs: 400 });
    q.start();
    q.add(1);
    q.add(2);
    state.failures = 2;
    await clock.advance(100); // fails: backoff 100 ms
    expect(q.failing).toBe(true);
    q.add(3);
    q.add(4);
    await clock.advance(100); // fails again: backoff 200 ms
    await clock.advance(100); // within the backoff: no attempt
    expect(batches).toEqual([
      [1, 2],
      [1, 2, 3],
    ]);
    await clock.advance(100);
    expect(batches.slice(2)).toEqual([[1, 2, 3], [4]]);
    expect(written).toEqual([1, 2, 3, 4]);
    expect(q.failing).toBe(false);
    expect(q.depth).toBe(0);
  });

  it('flush() rejects while the write fails, keeping everything queued', async () => {
    const { write, state } = recordingWriter();
    const q = make(write);
    q.add(1);
    state.failures = 1;
    await expect(q.flush()).rejects.toThrow('database down');
    expect(q.depth).toBe(1);
    await q.flush();
    expect(q.depth).toBe(0);
  });

  it('a writer that commits in parts: only the unwritten part is retried (nothing twice, nothing lost)', async () => {
    const attempts: number[][] = [];
    let fail = true;
    const write: BatchWriter<number> = async (batch, written) => {
      attempts.push([...batch]);
      // Odd and even numbers are written in separate transactions; the even one fails once.
      written(batch.filter((n) => n % 2));
      if (fail) {
        fail = false;
        throw new Error('connection reset');
      }
      written(batch.filter((n) => n % 2 === 0));
    };
    const q = make(write, { maxBatch: 100 });
    for (let i = 1; i <= 5; i++) q.add(i);
    await expect(q.flush()).rejects.toThrow('connection reset');
    expect(q.depth).toBe(2);
    q.add(6);
    await q.flush();
    expect(attempts).toEqual([
      [1, 2, 3, 4, 5],
      [2, 4, 6],
    ]);
  });

  it('addAndWait with soon: the callers of one turn share one write and resolve once it commits', async () => {
    let commit: () => void = () => undefined;
    const batches: number[][] = [];
    const write: BatchWriter<number> = (batch) =>
      new Promise<void>((resolve) => {
        batches.push([...batch]);
        commit = resolve;
      });
    const q = make(write, { maxBatch: 100 });
    const resolved: number[] = [];
    for (const i of [1, 2, 3])
      void q.addAndWait(i, { maxWaitMs: 1_000, soon: true }).then(() => resolved.push(i));
    await settle();
    expect(batches).toEqual([]);
    await clock.turn();
    expect(batches).toEqual([[1, 2, 3]]);
    // Added while the write is in flight: the next write.
    void q.addAndWait(4, { maxWaitMs: 1_000, soon: true }).then(() => resolved.push(4));
    await clock.turn();
    expect(resolved).toEqual([]);
    commit();
    await settle();
    expect(resolved).toEqual([1, 2, 3]);
    expect(batches).toEqual([[1, 2, 3], [4]]);
    commit();
    await settle();
    expect(resolved).toEqual([1, 2, 3, 4]);
  });

  it('addAndWait gives up after maxWaitMs (the item stays queued), and does not wait while writes fail', async () => {
    const { write, state } = recordingWriter();
    const q = make(write, { maxBatch: 100 });
    let waited = false;
    void q.addAndWait(1, { maxWaitMs: 500, soon: false }).then(() => (waited = true));
    await clock.advance(499);
    expect(waited).toBe(false);
    await clock.advance(1);
    expect({ waited, depth: q.depth }).toEqual({ waited: true, depth: 1 });

    state.failures = 1;
    let released = false;
    void q.addAndWait(2, { maxWaitMs: 10_000, soon: true }).then(() => (released = true));
    await clock.turn();
    // The write failed: the caller is released at once, its item kept.
    expect({ released, failing: q.failing, depth: q.depth }).toEqual({
      released: true,
      failing: true,
      depth: 2,
    });
    let immediate = false;
    void q.addAndWait(3, { maxWaitMs: 10_000, soon: true }).then(() => (immediate = true));
    await settle();
    expect(immediate).toBe(true);
  });

  it('a transient failure (SQLite busy) is retried within milliseconds for waiting callers, without failing', async () => {
    let busy = 1;
    const batches: number[][] = [];
    const write: BatchWriter<number> = async (batch) => {
      batches.push([...batch]);
      if (busy-- > 0) throw new Error('SQLITE_BUSY');
    };
    const q = make(write, { isTransient: (e) => (e as Error).message === 'SQLITE_BUSY' });
    let done = false;
    void q.addAndWait(1, { maxWaitMs: 1_000, soon: true }).then(() => (done = true));
    await clock.turn();
    expect({ done, failing: q.failing }).toEqual({ done: false, failing: false });
    await clock.advance(5);
    expect({ done, batches }).toEqual({ done: true, batches: [[1], [1]] });
  });

  it('coalesces items with the same key while they wait; one in flight is not merged into', async () => {
    interface Count {
      key: string;
      n: number;
    }
    const batches: Count[][] = [];
    let commit: () => void = () => undefined;
    const q = new BatchQueue<Count>({
      name: 'counts',
      maxBatch: 100,
      flushEveryMs: 100,
      limit: 10,
      scheduler: clock,
      coalesce: { key: (c) => c.key, merge: (a, b) => ({ key: a.key, n: a.n + b.n }) },
      write: (batch) =>
        new Promise<void>((resolve) => {
          batches.push(batch.map((c) => ({ ...c })));
          commit = resolve;
        }),
    });
    q.add({ key: 'a', n: 1 });
    q.add({ key: 'b', n: 1 });
    q.add({ key: 'a', n: 2 });
    expect(q.depth).toBe(2);
    const flushed = q.flush();
    await settle();
    q.add({ key: 'a', n: 4 });
    commit();
    await settle();
    commit();
    await flushed;
    expect(batches).toEqual([
      [
        { key: 'a', n: 3 },
        { key: 'b', n: 1 },
      ],
      [{ key: 'a', n: 4 }],
    ]);
  });

  it('close() writes everything, retrying a failing write until it succeeds; later items are written at once', async () => {
    const { write, batches, state } = recordingWriter();
    const q = make(write, { maxBatch: 2 });
    q.start();
    q.add(1);
    state.failures = 2;
    const closing = q.close();
    await clock.advance(100); // first retry after 100 ms
    await clock.advance(200); // second after 200 ms more
    await closing;
    expect(batches).toEqual([[1], [1], [1]]);
    q.add(2);
    await settle();
    expect(batches).toEqual([[1], [1], [1], [2]]);
    // The timer is stopped: nothing runs any more.
    await clock.advance(10_000);
    expect(batches).toHaveLength(4);
  });

  it('close() gives up after closeTimeoutMs and says how many items are lost', async () => {
    const { write, state } = recordingWriter();
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const q = make(write, { closeTimeoutMs: 1_000 });
    q.add(1);
    state.failures = 1_000;
    const closing = q.close();
    await clock.advance(2_000);
    await closing;
    expect(q.depth).toBe(1);
    expect(error).toHaveBeenCalledWith(expect.stringContaining('test_items: 1 items could not be written'));
    error.mockRestore();
  });
});
