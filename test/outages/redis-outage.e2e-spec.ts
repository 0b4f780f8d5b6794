import request from 'supertest';
import { startFakeUpstream, type FakeUpstream } from '@app/providers/testing';
import {
  bootApp,
  type BootedApp,
  canRunOwnRedis,
  createTestEnv,
  OwnRedis,
  SERVICES_LABEL,
  type TestEnv,
} from '@app/testing';
import { AppModule as GatewayModule } from '../../apps/memory-gateway/src/app.module';
import { AppModule as RouterModule } from '../../apps/router/src/app.module';
import { tenantWithKey, upstreamEnv } from '../../apps/router/test/governance-helpers';
import { readDevCredentials } from '../auth-helpers';
import { sleep } from './outage-helpers';

/**
 * Issue 16, defect 2: a Redis outage fails fast. Both apps run on a Redis of this test's own
 * (the database is the run's: SQLite or the shared PostgreSQL). Before the fix, with Redis
 * refusing connections every router request took seconds (also for a key with no limits: the
 * circuit-breaker read went to Redis once its 1 s local copy expired) and with Redis frozen
 * (SIGSTOP) chat and memory calls hung for the whole freeze.
 *
 * Bounds, and why they have margin: ATP_REDIS_TIMEOUT_MS is 50 ms here (the default), a
 * confirming PING waits 500 ms, so the slowest request of a freeze waits ~50 ms and every
 * request after the outage is known waits none. The asserted bounds (median < 100/200 ms,
 * max < 1.5 s) leave room for a loaded 2-core CI machine and still fail on the old code, whose
 * requests took 1.4-7.9 s refused and the whole freeze frozen.
 */
const suite = canRunOwnRedis ? describe : describe.skip;
jest.setTimeout(120_000);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

suite(`a Redis outage fails fast, and recovers by itself (${SERVICES_LABEL} database, own Redis)`, () => {
  let redis: OwnRedis;
  let upstream: FakeUpstream;
  let testEnv: TestEnv;
  let gateway: BootedApp;
  let router: BootedApp;
  let memoryKey: string;
  let free: { key: string };
  let limited: { key: string };
  let budgeted: { key: string };

  beforeAll(async () => {
    [redis, upstream] = await Promise.all([OwnRedis.start(), startFakeUpstream()]);
    testEnv = await createTestEnv({ ...upstreamEnv(upstream), LOG_LEVEL: 'INFO' });
    const env = { ...testEnv.env, REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'atp-outage:' };
    gateway = await bootApp('memory-gateway', GatewayModule, env);
    memoryKey = readDevCredentials(gateway).api_key;
    // Booted last: its log capture receives the process's application lines (the outage reporter's).
    router = await bootApp('router', RouterModule, env);
    free = await tenantWithKey(router);
    limited = await tenantWithKey(router, {}, { rpm: 3 });
    budgeted = await tenantWithKey(router, { monthlyBudgetUsd: 5 });
  });
  afterAll(async () => {
    redis?.thaw();
    await router?.close();
    await gateway?.close();
    await redis?.destroy();
    await upstream?.close();
    await testEnv?.cleanup();
  });

  async function timed<T extends { status: number }>(p: PromiseLike<T>): Promise<T & { ms: number }> {
    const started = performance.now();
    const res = await p;
    return Object.assign(res, { ms: performance.now() - started });
  }
  const chat = (key: string) =>
    timed(
      request(router.url)
        .post('/v1/chat/completions')
        .set('authorization', `Bearer ${key}`)
        .timeout(30_000)
        .send({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    );
  const put = (k: string, value: unknown) =>
    timed(
      request(gateway.url)
        .put(`/v1/memory/outage/${k}`)
        .set('authorization', `Bearer ${memoryKey}`)
        .timeout(30_000)
        .send({ value }),
    );
  const get = (k: string) =>
    timed(
      request(gateway.url)
        .get(`/v1/memory/outage/${k}`)
        .set('authorization', `Bearer ${memoryKey}`)
        .timeout(30_000),
    );

  /** The limited key is refused again (the window counts anew after a Redis restart): no restart of ours. */
  async function limitsEnforcedAgain(): Promise<void> {
    const deadline = Date.now() + 15_000;
    let res = await chat(limited.key);
    while (res.status === 200 && Date.now() < deadline) {
      await sleep(100);
      res = await chat(limited.key);
    }
    expect({ status: res.status, code: res.body.error?.code }).toEqual({
      status: 429,
      code: 'rate_limit_exceeded',
    });
  }

  function expectOutage503(
    res: { status: number; body: unknown; headers: Record<string, string> },
    code: string,
  ) {
    expect({ status: res.status, code: (res.body as { error?: { code?: string } }).error?.code }).toEqual({
      status: 503,
      code,
    });
    expect(res.headers['retry-after']).toBe('5');
    expect(Object.keys((res.body as { error: object }).error).sort()).toEqual([
      'code',
      'message',
      'param',
      'type',
    ]);
  }

  it('before: limits and budgets are enforced through Redis', async () => {
    for (let n = 0; n < 3; n++) expect((await chat(limited.key)).status).toBe(200);
    expect((await chat(limited.key)).status).toBe(429);
    expect((await chat(budgeted.key)).status).toBe(200);
    expect((await put('a', 'v1')).status).toBe(201);
    expect((await get('a')).body.value).toBe('v1');
  });

  it('Redis refused: chat answers at once (no limits, limits open), budgets 503 at once, memory bypasses the cache', async () => {
    await redis.kill();
    await sleep(100); // the lost connection is the outage becoming known

    // For 1.5 s, past the circuit breaker's 1 s local copy (whose refresh went to Redis).
    const frees: number[] = [];
    for (const until = Date.now() + 1500; Date.now() < until;) {
      const res = await chat(free.key);
      expect(res.status).toBe(200);
      frees.push(res.ms);
    }
    // eslint-disable-next-line no-console
    console.log(
      `refused: free chat n=${frees.length} median ${median(frees).toFixed(1)} ms max ${Math.max(...frees).toFixed(1)} ms`,
    );
    expect(median(frees)).toBeLessThan(200);
    expect(Math.max(...frees)).toBeLessThan(1500);

    // ATP_LIMITS_ON_REDIS_DOWN=open (the default): served unmetered
    const open = await chat(limited.key);
    expect(open.status).toBe(200);
    expect(open.headers['x-ratelimit-remaining-requests']).toBeUndefined();

    const budgets = [];
    for (let n = 0; n < 10; n++) {
      const res = await chat(budgeted.key);
      expectOutage503(res, 'budget_unavailable');
      budgets.push(res.ms);
    }
    // eslint-disable-next-line no-console
    console.log(
      `refused: budgeted 503 median ${median(budgets).toFixed(1)} ms max ${Math.max(...budgets).toFixed(1)} ms`,
    );
    expect(median(budgets)).toBeLessThan(100);

    const w = await put('b', 'during-refused');
    expect(w.status).toBe(201);
    const r = await get('b');
    expect({ status: r.status, value: r.body.value }).toEqual({ status: 200, value: 'during-refused' });
    expect(Math.max(w.ms, r.ms)).toBeLessThan(1500);

    const ready = await request(router.url).get('/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.error.redis.status).toBe('down');
  });

  it('Redis back: limits and budgets enforced again without a restart; the outage was logged once', async () => {
    await redis.resume();
    await limitsEnforcedAgain();
    expect((await chat(budgeted.key)).status).toBe(200);
    expect((await request(router.url).get('/ready')).status).toBe(200);
    const outageLines = router.logs.filter((l) => l.includes('Redis unavailable'));
    expect(outageLines).toHaveLength(1);
    expect(router.logs.filter((l) => l.includes('Redis available again'))).toHaveLength(1);
  });

  it('Redis frozen (SIGSTOP): no request waits for the freeze; after it, no stale cache entry is served', async () => {
    // Cached before the freeze: v1
    expect((await put('c', 'v1')).status).toBe(201);
    expect((await get('c')).body.value).toBe('v1');

    redis.freeze();
    const started = Date.now();
    // A burst while the freeze is not yet known: each waits one command timeout at most.
    const burst = await Promise.all([
      chat(free.key),
      chat(free.key),
      chat(budgeted.key),
      chat(limited.key),
      get('c'),
      put('d', 'during-freeze'),
    ]);
    // eslint-disable-next-line no-console
    console.log(
      `frozen, not yet known: ${burst.map((r) => `${r.status} in ${r.ms.toFixed(0)} ms`).join(', ')}`,
    );
    for (const res of burst) expect(res.ms).toBeLessThan(1500);
    expect(burst.map((r) => r.status)).toEqual([200, 200, 503, 200, 200, 201]);
    expect(burst[4].body.value).toBe('v1');

    // Known by now (a PING confirmed it): no wait at all.
    await sleep(1000);
    const budgets = [];
    for (let n = 0; n < 10; n++) {
      const res = await chat(budgeted.key);
      expectOutage503(res, 'budget_unavailable');
      budgets.push(res.ms);
    }
    expect(median(budgets)).toBeLessThan(100);
    const frees = [];
    for (let n = 0; n < 10; n++) {
      const res = await chat(free.key);
      expect(res.status).toBe(200);
      frees.push(res.ms);
    }
    // eslint-disable-next-line no-console
    console.log(
      `frozen, known: budgeted 503 median ${median(budgets).toFixed(1)} ms, free chat median ${median(frees).toFixed(1)} ms`,
    );
    expect(median(frees)).toBeLessThan(200);
    // Written while Redis was known down: the cache still holds v1, which must not come back.
    expect((await put('c', 'v2')).status).toBe(200);
    expect((await get('c')).body.value).toBe('v2');
    expect(Date.now() - started).toBeLessThan(10_000);

    redis.thaw();
    await limitsEnforcedAgain();
    expect((await chat(budgeted.key)).status).toBe(200);
    // Through the cache again: v2, never the v1 cached before the freeze.
    for (let n = 0; n < 3; n++) expect((await get('c')).body.value).toBe('v2');
    expect((await get('d')).body.value).toBe('during-freeze');
  });
});
