import { LoopLane } from './loop-lane';

describe('LoopLane', () => {
  it('runs one slice per turn of the loop, in order, and lets I/O callbacks run between slices', async () => {
    const lane = new LoopLane();
    const seen: string[] = [];
    const slices = [1, 2, 3].map((n) => lane.run(() => (seen.push(`slice ${n}`), n)));
    // A timer due now fires in the timers phase of the next turn: between the first slice and the second.
    setTimeout(() => seen.push('timer'), 0);
    expect(lane.waiting).toBe(3);
    await expect(Promise.all(slices)).resolves.toEqual([1, 2, 3]);
    expect(seen.filter((s) => s.startsWith('slice'))).toEqual(['slice 1', 'slice 2', 'slice 3']);
    expect(seen.indexOf('timer')).toBeGreaterThan(0);
    expect(seen.indexOf('timer')).toBeLessThan(3);
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
