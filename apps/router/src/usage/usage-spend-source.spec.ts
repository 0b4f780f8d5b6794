import type { UsageRecorder } from './usage-recorder';
import { UsageSpendSource } from './usage-spend-source';
import type { UsageRepository } from './usage.repository';

describe('UsageSpendSource', () => {
  it('writes the queued rows, then sums the cost since the date (of the key, when given)', async () => {
    const calls: string[] = [];
    const recorder = { flush: async () => void calls.push('flush') } as unknown as UsageRecorder;
    const repository = {
      sumCostSince: async (tenantId: string, keyId: string | null, since: Date) => {
        calls.push(`sum ${tenantId} ${keyId} ${since.toISOString()}`);
        return 0.25;
      },
    } as unknown as UsageRepository;
    const source = new UsageSpendSource(recorder, repository);
    const since = new Date('2026-11-01T00:00:00Z');
    expect(await source.spentUsdSince('t1', 'k1', since)).toBe(0.25);
    expect(await source.spentUsdSince('t1', null, since)).toBe(0.25);
    expect(calls).toEqual([
      'flush',
      'sum t1 k1 2026-11-01T00:00:00.000Z',
      'flush',
      'sum t1 null 2026-11-01T00:00:00.000Z',
    ]);
  });
});
