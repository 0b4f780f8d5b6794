import { PROVIDERS } from '@app/providers';
import { BUILTIN_MODELS, CATALOG_AS_OF, callCost, type CatalogModel, parseCatalogData } from './catalog';

/** The providers' catalog files together (was catalog.data.json). */
const catalogData = { models: PROVIDERS.flatMap((p) => p.catalog.models) };

/** Every id the catalog listed before the refresh: configs in the field name them. */
const EARLIER_IDS = [
  'gpt-4o-mini',
  'gpt-4o',
  'gpt-4.1-mini',
  'text-embedding-3-small',
  'text-embedding-3-large',
  'claude-3-5-haiku-latest',
  'claude-sonnet-4-5',
  'gemini-2.0-flash',
  'gemini-2.5-flash',
  'gemini-2.5-pro',
  'text-embedding-004',
  'mock-1',
  'mock-embedding',
];

describe("the built-in catalog (the providers' <vendor>.catalog.json)", () => {
  it('parses, with an as_of date', () => {
    expect(CATALOG_AS_OF).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(BUILTIN_MODELS.length).toBe(catalogData.models.length);
  });

  it('ids are unique, and every id listed before is still listed', () => {
    const ids = BUILTIN_MODELS.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(EARLIER_IDS));
  });

  it('every entry has prices; chat models an output price and a completion limit; cache prices are below input', () => {
    for (const m of BUILTIN_MODELS) {
      expect({ id: m.id, input: Number.isFinite(m.inputPer1M) && m.inputPer1M >= 0 }).toEqual({
        id: m.id,
        input: true,
      });
      if (m.kind === 'chat') {
        expect(m.maxOutputTokens).toBeGreaterThan(0);
        if (m.provider !== 'mock') expect(m.outputPer1M).toBeGreaterThan(m.inputPer1M);
      }
      if (m.cacheReadPer1M !== undefined) expect(m.cacheReadPer1M).toBeLessThan(m.inputPer1M);
      if (m.cacheWritePer1M !== undefined) expect(m.cacheWritePer1M).toBeGreaterThan(m.inputPer1M);
    }
  });

  it('each vendor has current chat and embedding models; retired ones carry their date and a listed successor', () => {
    for (const provider of ['openai', 'anthropic', 'google']) {
      const current = BUILTIN_MODELS.filter((m) => m.provider === provider && !m.deprecated);
      expect(current.some((m) => m.kind === 'chat')).toBe(true);
      if (provider !== 'anthropic') expect(current.some((m) => m.kind === 'embedding')).toBe(true);
    }
    const haiku = BUILTIN_MODELS.find((m) => m.id === 'claude-3-5-haiku-latest')!;
    expect(haiku.deprecated).toEqual({ date: '2026-02-19', replacement: 'claude-haiku-4-5' });
    for (const m of BUILTIN_MODELS.filter((x) => x.deprecated)) {
      const successor = BUILTIN_MODELS.find((x) => x.id === m.deprecated!.replacement);
      expect(successor).toMatchObject({ provider: m.provider, kind: m.kind });
      expect(successor!.deprecated).toBeUndefined();
    }
  });

  it('a malformed file is refused with the offending path, a duplicate id by name', () => {
    const entry = {
      id: 'a',
      provider: 'openai',
      kind: 'chat',
      input: 1,
      output: 2,
      context_window: 10,
      max_output_tokens: 5,
    };
    expect(parseCatalogData({ as_of: '2026-12-01', models: [entry] }).models[0]).toMatchObject({
      id: 'a',
      upstream: 'a',
      inputPer1M: 1,
      outputPer1M: 2,
    });
    expect(() => parseCatalogData({ as_of: '2026-12-01', models: [entry, entry] })).toThrow(/lists a twice/);
    expect(() => parseCatalogData({ as_of: 'December', models: [entry] })).toThrow(/as_of/);
    expect(() => parseCatalogData({ as_of: '2026-12-01', models: [{ ...entry, input: -1 }] })).toThrow(
      /models\.0\.input/,
    );
    expect(() =>
      parseCatalogData({ as_of: '2026-12-01', models: [{ ...entry, output: undefined }] }),
    ).toThrow(/chat model needs output/);
    expect(() => parseCatalogData({ as_of: '2026-12-01', models: [{ ...entry, price: 3 }] })).toThrow(
      /price/,
    );
  });
});

describe('callCost: what a call cost, prompt-cache tokens at their own prices', () => {
  const model = (id: string) => BUILTIN_MODELS.find((m) => m.id === id) as CatalogModel;

  it('Claude: cache reads at the cache-read price, writes at the cache-write price, the rest at input', () => {
    // claude-sonnet-4-5: input $3, output $15, cache read $0.30, cache write $3.75 per 1M
    const cost = callCost(model('claude-sonnet-4-5'), {
      prompt_tokens: 1_000_000 + 2_000_000 + 4_000_000,
      completion_tokens: 100_000,
      total_tokens: 7_100_000,
      prompt_tokens_details: { cached_tokens: 4_000_000 },
      cache_creation_input_tokens: 2_000_000,
    });
    expect(cost).toBeCloseTo(3 + 2 * 3.75 + 4 * 0.3 + 0.1 * 15, 10);
  });

  it('OpenAI: cached prompt tokens at the cached-input price; without cache fields, the plain prices', () => {
    const mini = model('gpt-4o-mini');
    const plain = { prompt_tokens: 1_000_000, completion_tokens: 1_000_000, total_tokens: 2_000_000 };
    expect(callCost(mini, plain)).toBeCloseTo(mini.inputPer1M + mini.outputPer1M, 10);
    expect(callCost(mini, { ...plain, prompt_tokens_details: { cached_tokens: 1_000_000 } })).toBeCloseTo(
      mini.cacheReadPer1M! + mini.outputPer1M,
      10,
    );
  });

  it('a model without cache prices bills cache tokens at the input price', () => {
    const bare: CatalogModel = {
      ...model('gpt-4o-mini'),
      cacheReadPer1M: undefined,
      cacheWritePer1M: undefined,
    };
    const usage = {
      prompt_tokens: 300,
      completion_tokens: 0,
      total_tokens: 300,
      prompt_tokens_details: { cached_tokens: 100 },
      cache_creation_input_tokens: 100,
    };
    expect(callCost(bare, usage)).toBeCloseTo((300 * bare.inputPer1M) / 1e6, 12);
  });
});
