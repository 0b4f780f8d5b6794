import { MemoryKvStore } from '@app/cache';
import { AtpError } from '@app/common';
import { BUILTIN_MODELS, BUILTIN_ROUTES, callCost } from './catalog';
import { CircuitBreaker } from './circuit-breaker';
import { resolveModel } from './resolve-model';
import { buildCatalog, parseRoutingConfig, RoutingConfigError } from './routing-config';
import { betaSample, EMPTY_STATS, type ModelStats, nextEwma, orderCandidates } from './strategies';

const catalog = buildCatalog();
const all = new Set(['openai', 'anthropic', 'google', 'mock']);

function seeded(seed = 42): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

describe('resolveModel', () => {
  it('resolves aliases, catalog ids and provider/model names', () => {
    expect(resolveModel('best', 'chat', catalog, all).candidates.map((m) => m.id)).toEqual([
      'claude-sonnet-4-5',
      'gpt-4.1',
      'gemini-2.5-pro',
    ]);
    expect(resolveModel('gpt-4o-mini', 'chat', catalog, all).candidates[0].provider).toBe('openai');
    const q = resolveModel('anthropic/claude-3-5-haiku-latest', 'chat', catalog, all);
    expect(q.candidates[0].id).toBe('claude-3-5-haiku-latest');
    const adHoc = resolveModel('openai/ft:my-model', 'chat', catalog, all);
    expect(adHoc.candidates[0]).toMatchObject({ provider: 'openai', upstream: 'ft:my-model', inputPer1M: 0 });
  });

  it('keeps only configured providers, and on the embedded default everything is the mock', () => {
    expect(resolveModel('best', 'chat', catalog, new Set(['openai'])).candidates.map((m) => m.id)).toEqual([
      'gpt-4.1',
    ]);
    const mock = new Set(['mock']);
    expect(resolveModel('auto', 'chat', catalog, mock).candidates[0].id).toBe('mock-1');
    expect(resolveModel('gpt-4o', 'chat', catalog, mock).candidates[0].id).toBe('mock-1');
    expect(resolveModel('text-embedding-3-small', 'embedding', catalog, mock).candidates[0].id).toBe(
      'mock-embedding',
    );
  });

  it('clear errors: unknown model 404, unconfigured provider 400, wrong kind 400', () => {
    const err = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e as AtpError;
      }
      throw new Error('expected an error');
    };
    expect(err(() => resolveModel('nope', 'chat', catalog, all))).toMatchObject({
      status: 404,
      code: 'model_not_found',
    });
    expect(err(() => resolveModel('gpt-4o', 'chat', catalog, new Set(['anthropic'])))).toMatchObject({
      status: 400,
      code: 'model_unavailable',
    });
    expect(err(() => resolveModel('text-embedding-3-small', 'chat', catalog, all))).toMatchObject({
      status: 400,
      code: 'model_wrong_kind',
    });
  });
});

describe('orderCandidates', () => {
  const route = (name: string) => resolveModel(name, 'chat', catalog, all);
  const stats = (map: Record<string, Partial<ModelStats>>) => (m: { id: string }) => ({
    ...EMPTY_STATS,
    ...map[m.id],
  });

  it('cheapest honours the quality floor, lowest-latency sorts by EWMA', () => {
    expect(orderCandidates(route('cheap'), stats({}))[0].id).toBe('gemini-2.5-flash-lite');
    const fast = orderCandidates(
      route('fast'),
      stats({
        'gemini-2.5-flash-lite': { latencyEwmaMs: 300 },
        'gpt-4.1-mini': { latencyEwmaMs: 100 },
        'claude-haiku-4-5': { latencyEwmaMs: 200 },
      }),
    );
    expect(fast.map((m) => m.id)).toEqual(['gpt-4.1-mini', 'claude-haiku-4-5', 'gemini-2.5-flash-lite']);
  });

  it('learned (Thompson sampling) puts the candidate that succeeds first', () => {
    const s = stats({
      'gpt-4.1-mini': { successes: 2, failures: 60 },
      'claude-haiku-4-5': { successes: 200, failures: 2 },
      'gemini-2.5-flash': { successes: 5, failures: 80 },
    });
    const rand = seeded(7);
    const firsts = new Map<string, number>();
    for (let i = 0; i < 500; i++) {
      const first = orderCandidates(route('auto'), s, rand)[0].id;
      firsts.set(first, (firsts.get(first) ?? 0) + 1);
    }
    expect(firsts.get('claude-haiku-4-5')!).toBeGreaterThan(480);
  });

  it('weighted picks in proportion to weights', () => {
    const r = { ...route('best'), strategy: 'weighted' as const, weights: [8, 1, 1] };
    const rand = seeded(3);
    let first = 0;
    for (let i = 0; i < 1000; i++)
      if (orderCandidates(r, stats({}), rand)[0].id === 'claude-sonnet-4-5') first++;
    expect(first).toBeGreaterThan(740);
    expect(first).toBeLessThan(860);
  });

  it('beta samples stay in [0,1] and track the mean', () => {
    const rand = seeded(11);
    let sum = 0;
    for (let i = 0; i < 2000; i++) {
      const x = betaSample(9, 3, rand);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(1);
      sum += x;
    }
    expect(sum / 2000).toBeCloseTo(0.75, 1);
    expect(nextEwma(0, 100)).toBe(100);
    expect(nextEwma(100, 200)).toBeCloseTo(120);
  });
});

describe('circuit breaker', () => {
  it('opens after the threshold within the window, and a success resets the count', async () => {
    let now = 1_000_000;
    const kv = new MemoryKvStore(() => now);
    const cb = new CircuitBreaker(kv, { failureThreshold: 3, windowMs: 1000, openMs: 5000 }, 0, () => now);
    await cb.recordFailure('openai', 'm');
    await cb.recordSuccess('openai', 'm');
    await cb.recordFailure('openai', 'm');
    expect(await cb.recordFailure('openai', 'm')).toBe(false);
    expect(await cb.recordFailure('openai', 'm')).toBe(true);
    expect(await cb.isOpen('openai', 'm')).toBe(true);
    now += 5001;
    expect(await cb.isOpen('openai', 'm')).toBe(false);
    await kv.close();
  });
});

describe('circuit breaker success resets', () => {
  it('resets the shared counter at most once per interval, but always right after a failure seen here', async () => {
    const kv = new MemoryKvStore();
    let now = 1_000;
    const cb = new CircuitBreaker(
      kv,
      { failureThreshold: 3, windowMs: 10_000, openMs: 5000 },
      0,
      () => now,
      100,
    );
    const dels = jest.spyOn(kv, 'del');
    await cb.recordSuccess('p', 'm');
    await cb.recordSuccess('p', 'm');
    now += 50;
    await cb.recordSuccess('p', 'm');
    expect(dels).toHaveBeenCalledTimes(1); // one DEL for three successes within 100 ms
    await cb.recordFailure('p', 'm');
    await cb.recordSuccess('p', 'm'); // a failure here: the next success resets at once
    expect(dels).toHaveBeenCalledTimes(2);
    now += 100;
    await cb.recordSuccess('p', 'm');
    expect(dels).toHaveBeenCalledTimes(3);
    // consecutive semantics hold for this process: fail, succeed, fail, fail never opens at 3
    expect(await cb.recordFailure('p', 'm')).toBe(false);
    await cb.recordSuccess('p', 'm');
    expect(await cb.recordFailure('p', 'm')).toBe(false);
    expect(await cb.recordFailure('p', 'm')).toBe(false);
    expect(await cb.recordFailure('p', 'm')).toBe(true);
  });
});

describe('routing config', () => {
  it('adds models and routes from YAML and validates references', () => {
    const file = parseRoutingConfig(`
models:
  - id: llama3
    provider: ollama
    input_per_1m: 0
routes:
  local-first:
    strategy: ordered
    candidates: [llama3, gpt-4o-mini]
`);
    const c = buildCatalog(file);
    expect(c.models.get('llama3')).toMatchObject({ provider: 'ollama', upstream: 'llama3', kind: 'chat' });
    expect(c.routes.get('local-first')!.candidates.map((x) => x.model)).toEqual(['llama3', 'gpt-4o-mini']);
    expect(() => buildCatalog(parseRoutingConfig('routes: {x: {candidates: [nope]}}'))).toThrow(
      RoutingConfigError,
    );
    expect(() => parseRoutingConfig('models: [{id: 1}]')).toThrow(/models\.0/);
    expect(() => parseRoutingConfig(': : :')).toThrow(/not valid YAML/);
  });

  it('built-in routes name current catalog models; costs are per 1M tokens', () => {
    expect(BUILTIN_ROUTES.map((r) => r.name).sort()).toEqual(['auto', 'best', 'cheap', 'fast']);
    for (const route of BUILTIN_ROUTES) {
      for (const { model } of route.candidates) {
        expect(catalog.models.get(model)).toMatchObject({ kind: 'chat' });
        expect(catalog.models.get(model)!.deprecated).toBeUndefined();
      }
    }
    const million = { prompt_tokens: 1_000_000, completion_tokens: 1_000_000, total_tokens: 2_000_000 };
    expect(callCost(catalog.models.get('gpt-4o-mini')!, million)).toBeCloseTo(0.75);
  });

  it('the routing YAML adds cache prices and a deprecation date, and replaces a built-in entry', () => {
    const c = buildCatalog(
      parseRoutingConfig(`
models:
  - { id: gpt-4o-mini, provider: openai, input_per_1m: 0.2, output_per_1m: 0.8, cache_read_per_1m: 0.1 }
  - { id: old-local, provider: mock, input_per_1m: 0, deprecation_date: 2026-03-01 }
`),
    );
    expect(c.models.get('gpt-4o-mini')).toMatchObject({
      inputPer1M: 0.2,
      outputPer1M: 0.8,
      cacheReadPer1M: 0.1,
    });
    expect(c.models.get('old-local')!.deprecated).toEqual({ date: '2026-03-01' });
    expect(BUILTIN_MODELS.find((m) => m.id === 'gpt-4o-mini')!.inputPer1M).toBe(0.15);
    expect(() =>
      parseRoutingConfig('models: [{id: x, provider: mock, input_per_1m: 0, deprecation_date: soon}]'),
    ).toThrow(/models\.0\.deprecation_date: must be YYYY-MM-DD/);
  });
});
