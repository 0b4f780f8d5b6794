import type { KvStore } from '@app/cache';
import { makeUsage } from '@app/providers';
import { cacheKey } from '../cache/response-cache';
import type { CallOptions } from './call';
import { type CachePlan, CacheStage } from './cache.stage';
import { chatRequest, chatResponse, rejection, routerConfig } from './pipeline.fakes';
import { pipelineMetrics } from './pipeline.metrics';

/** A key-value store over a Map that logs every read and write (with its TTL); `down` fails reads. */
function setup(opts: { down?: boolean } = {}) {
  const stored = new Map<string, string>();
  const log: string[] = [];
  const kv = {
    get: async (key: string) => {
      log.push(`get ${key}`);
      if (opts.down) throw new Error('connection refused');
      return stored.get(key) ?? null;
    },
    set: async (key: string, value: string, ttlMs?: number) => {
      log.push(`set ${key} ${ttlMs}`);
      stored.set(key, value);
    },
  } as unknown as KvStore;
  const stage = new CacheStage(routerConfig({ ATP_CACHE_TTL_SECONDS: 300 }), kv);
  return { stage, stored, log };
}

const body = chatRequest();
const KEY = cacheKey('tenant-1', 'fast', body);
const answer = chatResponse('model-a', 'cached words', makeUsage(7, 2));
const plan = (stage: CacheStage, routeCaches: boolean, options: CallOptions): CachePlan =>
  stage.plan('tenant-1', 'fast', routeCaches, body, options);

/** atp_cache_requests_total by result. */
async function lookups(): Promise<Record<string, number>> {
  const { values } = await pipelineMetrics.cache.get();
  return Object.fromEntries(values.map((v) => [v.labels.result, v.value]));
}

describe('CacheStage', () => {
  beforeEach(() => pipelineMetrics.cache.reset());

  describe('plan', () => {
    it('a route without caching and no TTL header: no key, bypass', () => {
      const { stage } = setup();
      expect(plan(stage, false, {})).toEqual({
        key: null,
        directive: 'use',
        ttlSeconds: 300,
        result: 'bypass',
      });
    });

    it('a caching route: the key of tenant, route and request, the configured TTL, a miss until looked up', () => {
      const { stage } = setup();
      expect(plan(stage, true, {})).toEqual({ key: KEY, directive: 'use', ttlSeconds: 300, result: 'miss' });
    });

    it('x-atp-cache-ttl turns caching on for any route, with its TTL', () => {
      const { stage } = setup();
      expect(plan(stage, false, { cacheTtl: '60' })).toEqual({
        key: KEY,
        directive: 'use',
        ttlSeconds: 60,
        result: 'miss',
      });
      expect(plan(stage, false, { cacheTtl: '2592000' }).ttlSeconds).toBe(2_592_000);
    });

    it('x-atp-cache-ttl outside 1..30 days or not an integer is a 400', async () => {
      const { stage } = setup();
      for (const ttl of ['0', '-5', '1.5', 'ten', '', '2592001']) {
        const err = await rejection(Promise.resolve().then(() => plan(stage, true, { cacheTtl: ttl })));
        expect([ttl, err.status, err.code, err.message]).toEqual([
          ttl,
          400,
          'invalid_request',
          'x-atp-cache-ttl must be 1..2592000 seconds',
        ]);
      }
    });

    it('x-atp-cache: bypass turns caching off even with a TTL; refresh keeps the key', () => {
      const { stage } = setup();
      expect(plan(stage, true, { cacheDirective: 'bypass', cacheTtl: '60' })).toMatchObject({
        key: null,
        directive: 'bypass',
        result: 'bypass',
      });
      expect(plan(stage, true, { cacheDirective: 'Refresh' })).toMatchObject({
        key: KEY,
        directive: 'refresh',
        result: 'miss',
      });
    });
  });

  describe('lookup', () => {
    it('a stored answer is a hit (and the plan says so)', async () => {
      const { stage, stored, log } = setup();
      stored.set(KEY, JSON.stringify(answer));
      const p = plan(stage, true, {});
      await expect(stage.lookup(p)).resolves.toEqual(answer);
      expect([p.result, log, await lookups()]).toEqual(['hit', [`get ${KEY}`], { hit: 1 }]);
    });

    it('nothing stored is a miss', async () => {
      const { stage } = setup();
      const p = plan(stage, true, {});
      await expect(stage.lookup(p)).resolves.toBeNull();
      expect([p.result, await lookups()]).toEqual(['miss', { miss: 1 }]);
    });

    it('no key: nothing is read, counted as bypass', async () => {
      const { stage, log } = setup();
      await expect(stage.lookup(plan(stage, false, {}))).resolves.toBeNull();
      expect([log, await lookups()]).toEqual([[], { bypass: 1 }]);
    });

    it('refresh: nothing is read, so the provider answers', async () => {
      const { stage, stored, log } = setup();
      stored.set(KEY, JSON.stringify(answer));
      await expect(stage.lookup(plan(stage, true, { cacheDirective: 'refresh' }))).resolves.toBeNull();
      expect([log, await lookups()]).toEqual([[], {}]);
    });

    it('a cache outage is a miss, never a failed call', async () => {
      const { stage } = setup({ down: true });
      await expect(stage.lookup(plan(stage, true, {}))).resolves.toBeNull();
      expect(await lookups()).toEqual({ miss: 1 });
    });
  });

  describe('store', () => {
    it('keeps a complete answer under the key with the TTL in milliseconds', async () => {
      const { stage, stored, log } = setup();
      stage.store(plan(stage, false, { cacheTtl: '60' }), answer);
      await new Promise((r) => setImmediate(r));
      expect(log).toEqual([`set ${KEY} 60000`]);
      expect(JSON.parse(stored.get(KEY) ?? 'null')).toEqual(answer);
    });

    it('keeps nothing without a key, nor a truncated answer', async () => {
      const { stage, log } = setup();
      stage.store(plan(stage, false, {}), answer);
      const truncated = { ...answer, choices: [{ ...answer.choices[0], finish_reason: 'length' as const }] };
      stage.store(plan(stage, true, {}), truncated);
      await new Promise((r) => setImmediate(r));
      expect(log).toEqual([]);
    });
  });
});
