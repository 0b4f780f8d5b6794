import { Logger } from '@nestjs/common';
import { LastUsedTracker } from './last-used.tracker';

describe('LastUsedTracker', () => {
  // Failure paths log a warning by design; keep the test output clean.
  beforeAll(() => jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));
  afterAll(() => jest.restoreAllMocks());

  let now: number;
  let writes: { tenantId: string; keyId: string; at: number }[];
  let failing: boolean;
  const writer = {
    recordLastUsed: async (tenantId: string, keyId: string, at: Date) => {
      if (failing) throw new Error('db down');
      writes.push({ tenantId, keyId, at: at.getTime() });
    },
  };
  beforeEach(() => {
    now = 1_000_000;
    writes = [];
    failing = false;
  });

  it('notes uses in memory and writes them in one batch, once per key', async () => {
    const t = new LastUsedTracker(writer, () => now, 60_000);
    for (let i = 0; i < 100; i++) t.note('t1', 'k1');
    t.note('t2', 'k2');
    expect(writes).toEqual([]);
    await t.flush();
    expect(writes).toEqual([
      { tenantId: 't1', keyId: 'k1', at: 1_000_000 },
      { tenantId: 't2', keyId: 'k2', at: 1_000_000 },
    ]);
    await t.flush();
    expect(writes).toHaveLength(2);
  });

  it('records a key again only after the granularity', async () => {
    const t = new LastUsedTracker(writer, () => now, 60_000);
    t.note('t', 'k');
    await t.flush();
    now += 59_999;
    t.note('t', 'k');
    await t.flush();
    expect(writes).toHaveLength(1);
    now += 1;
    t.note('t', 'k');
    await t.flush();
    expect(writes.map((w) => w.at)).toEqual([1_000_000, 1_060_000]);
  });

  it('never throws; a failed write is retried with the next use', async () => {
    const t = new LastUsedTracker(writer, () => now, 60_000);
    t.note('t', 'k');
    failing = true;
    await expect(t.flush()).resolves.toBeUndefined();
    failing = false;
    t.note('t', 'k');
    await t.flush();
    expect(writes).toHaveLength(1);
  });
});
