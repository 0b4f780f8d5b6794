import { BackgroundPass } from './background-pass';

describe('BackgroundPass', () => {
  it('a run while a pass runs joins it; the next run starts a new pass', async () => {
    let passes = 0;
    let finish!: (n: number) => void;
    const pass = new BackgroundPass(() => {
      passes++;
      return new Promise<number>((r) => (finish = r));
    });
    const first = pass.run();
    const joined = pass.run();
    expect(passes).toBe(1);
    finish(3);
    expect([await first, await joined]).toEqual([3, 3]);
    const next = pass.run();
    finish(5);
    expect([passes, await next]).toEqual([2, 5]);
  });

  it('stop waits for the running pass, and a failed pass does not make stop throw', async () => {
    let fail!: (err: Error) => void;
    const pass = new BackgroundPass(() => new Promise<number>((_, reject) => (fail = reject)));
    const running = pass.run().catch((err: Error) => err.message);
    let stopped = false;
    const stopping = pass.stop().then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false);
    fail(new Error('database gone'));
    await stopping;
    expect([stopped, await running]).toEqual([true, 'database gone']);
  });

  it('every: runs on the timer, and reports a failure instead of throwing', async () => {
    jest.useFakeTimers();
    try {
      const errors: string[] = [];
      let passes = 0;
      const pass = new BackgroundPass(async () => {
        passes++;
        throw new Error(`pass ${passes} failed`);
      });
      pass.every(1000, (err) => errors.push(err.message));
      await jest.advanceTimersByTimeAsync(2500);
      expect([passes, errors]).toEqual([2, ['pass 1 failed', 'pass 2 failed']]);
      await pass.stop();
      await jest.advanceTimersByTimeAsync(2000);
      expect(passes).toBe(2);
    } finally {
      jest.useRealTimers();
    }
  });
});
