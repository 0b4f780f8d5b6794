import type { CatalogModel } from '../routing/catalog';
import {
  budgetMonth,
  maxCompletionTokens,
  nanoToUsd,
  nextMonthStart,
  usdToNano,
  worstCaseNano,
} from './budget-math';

const model = (over: Partial<CatalogModel>): CatalogModel => ({
  id: 'm',
  provider: 'openai',
  upstream: 'm',
  kind: 'chat',
  inputPer1M: 0.15,
  outputPer1M: 0.6,
  contextWindow: 128_000,
  maxOutputTokens: 16_384,
  quality: 0.5,
  capabilities: { tools: true, vision: false, json: true },
  ...over,
});

describe('budget arithmetic', () => {
  it('converts USD to integer nano-dollars and back', () => {
    expect(usdToNano(1)).toBe(1_000_000_000);
    expect(usdToNano(0.02)).toBe(20_000_000);
    expect(nanoToUsd(usdToNano(0.01) * 100)).toBe(1);
  });

  it('names the UTC month and finds the next one', () => {
    expect(budgetMonth(Date.UTC(2026, 0, 31, 23, 59, 59))).toBe('2026-01');
    expect(budgetMonth(Date.UTC(2026, 11, 1))).toBe('2026-12');
    // remembered month: the boundaries either side of it still answer right
    expect(budgetMonth(Date.UTC(2026, 0, 31, 23, 59, 59, 999))).toBe('2026-01');
    expect(budgetMonth(Date.UTC(2026, 1, 1))).toBe('2026-02');
    expect(budgetMonth(Date.UTC(2026, 1, 1) - 1)).toBe('2026-01');
    expect(budgetMonth(Date.UTC(2026, 1, 28, 12))).toBe('2026-02');
    expect(nextMonthStart(Date.UTC(2026, 11, 15)).toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });

  it('caps max_tokens by the model and falls back to the model cap', () => {
    expect(maxCompletionTokens(model({}), 100)).toBe(100);
    expect(maxCompletionTokens(model({}), 1_000_000)).toBe(16_384);
    expect(maxCompletionTokens(model({}), undefined)).toBe(16_384);
  });

  it('reserves prompt × input price + max completion × output price, the worst candidate, rounded up', () => {
    // 1000 × 0.15/1M + 100 × 0.6/1M = 0.00015 + 0.00006 = 0.00021 USD = 210 000 nano
    expect(worstCaseNano([model({})], 1000, 100)).toBe(210_000);
    const pricey = model({ inputPer1M: 3, outputPer1M: 15 });
    expect(worstCaseNano([model({}), pricey], 1000, 100)).toBe(4_500_000);
    expect(worstCaseNano([model({ inputPer1M: 0, outputPer1M: 10_000, maxOutputTokens: 2 })], 50, null)).toBe(
      20_000_000,
    );
    expect(worstCaseNano([model({ inputPer1M: 0.1, outputPer1M: 0 })], 1, 0)).toBe(100); // 0.1 nano-USD... ×1000 = 100
  });

  it('prices the prompt at the cache-write price where it is higher (every token could be a cache write)', () => {
    const claude = model({ inputPer1M: 3, cacheWritePer1M: 3.75, cacheReadPer1M: 0.3, outputPer1M: 0 });
    expect(worstCaseNano([claude], 1_000_000, 0)).toBe(usdToNano(3.75));
  });
});

describe('worst case with choices and uncapped models', () => {
  it('scales with n and falls back to the context window when a model declares no output cap', () => {
    const m = model({ inputPer1M: 1000, outputPer1M: 1000, maxOutputTokens: 0, contextWindow: 500 });
    expect(maxCompletionTokens(m, undefined)).toBe(500);
    // (100 prompt + 500 output) × $0.001 = $0.6, × 2 choices
    expect(worstCaseNano([m], 100, undefined, 2)).toBe(usdToNano(1.2));
  });
});
