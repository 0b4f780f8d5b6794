import { normalizeLimits } from './limits';

describe('normalizeLimits', () => {
  it('keeps set fields, drops unset ones (null = not set)', () => {
    expect(normalizeLimits({ rpm: 10, tpm: null, piiMode: 'block', allowedModels: ['a', 'a', 'b'] })).toEqual(
      { rpm: 10, piiMode: 'block', allowedModels: ['a', 'b'] },
    );
    expect(normalizeLimits({})).toEqual({});
    expect(normalizeLimits(null)).toEqual({});
  });

  it('ignores values that cannot be limits (stored JSON is re-read through this)', () => {
    expect(normalizeLimits({ rpm: -1, tpm: Number.NaN, concurrency: Infinity, monthlyBudgetUsd: 0 })).toEqual(
      { monthlyBudgetUsd: 0 },
    );
    expect(normalizeLimits({ piiMode: 'shred' as never })).toEqual({});
  });
});
