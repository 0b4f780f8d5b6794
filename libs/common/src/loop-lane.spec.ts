import { LoopLane } from './loop-lane';

describe('LoopLane', () => {
  it('runs one slice per turn of the loop, in order, and lets I/O callbacks run between slices', async () => {
    const lane = new LoopLane();
    const seen: string[] = [];
    const busy = (ms: number) => {
      const until = performance.now() + ms;
      while (performance.now() < until);
    };
    // Each slice holds the loop 5 ms: the timer below is due by the end of the first one, and fires
    // in the timers phase of the next turn, before the second slice's turn.
    const slices = [1, 2, 3].map((n) => lane.run(() => (busy(5), seen.push(`slice ${n}`), n)));
    setTimeout(() => seen.push('timer'), 0);
    expect(lane.waiting).toBe(3);
    await expect(Promise.all(slices)).resolves.toEqual([1, 2, 3]);
    expect(seen).toEqual(['slice 1', 'timer', 'slice 2', 'slice 3']);
    expect(lane.waiting).toBe(0);
  });

  it('a slice that throws rejects its own promise only', async () => {
    const lane = new LoopLane();
    const failed = lane.run(() => {
      throw new Error('bad body');
    });
    const next = lane.run(() => 'next');
    await expect(failed).rejects.toThrow('bad body');
    await expect(next).resolves.toBe('next');
  });
});
