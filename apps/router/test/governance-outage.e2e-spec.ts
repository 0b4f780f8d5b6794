import { register } from 'prom-client';
import request from 'supertest';
import {
  bootApp,
  type BootedApp,
  createTestEnv,
  CuttableProxy,
  type TestEnv,
  usingPostgres,
  usingRedis,
} from '@app/testing';
import { AppModule } from '../src/app.module';
import { type FakeUpstream, startFakeUpstream, tenantWithKey } from './governance-helpers';

/**
 * Redis goes away mid-test (a TCP proxy in front of the shared Redis is cut, the server itself
 * stays up): limits fail open (or closed, per ATP_LIMITS_ON_REDIS_DOWN) and are counted, budgets
 * always fail closed, and limits resume without a restart when Redis is back.
 */
const suite = usingPostgres && usingRedis ? describe : describe.skip;

suite('governance through a Redis outage', () => {
  let upstream: FakeUpstream;
  let testEnv: TestEnv;
  let open: BootedApp;
  let closed: BootedApp;
  const proxy = new CuttableProxy('127.0.0.1', 0);
  let cut = false;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    testEnv = await createTestEnv({
      OPENAI_API_KEY: 'sk-fake-openai',
      OPENAI_BASE_URL: upstream.openaiBaseUrl,
    });
    const redis = new URL(testEnv.env.REDIS_URL);
    Object.assign(proxy, { targetHost: redis.hostname, targetPort: Number(redis.port || 6379) });
    redis.host = `127.0.0.1:${await proxy.start()}`;
    const env = { ...testEnv.env, REDIS_URL: redis.toString() };
    // Metrics are per process: the app booted last owns the registry, so boot the one whose metrics we read last.
    register.clear();
    closed = await bootApp('router', AppModule, { ...env, ATP_LIMITS_ON_REDIS_DOWN: 'closed' });
    register.clear();
    open = await bootApp('router', AppModule, env);
  });
  afterAll(async () => {
    if (cut) await proxy.restore();
    await closed?.close();
    await open?.close();
    await proxy.cut();
    await upstream?.close();
    await testEnv?.cleanup();
  });

  const chat = (app: BootedApp, key: string) =>
    request(app.url)
      .post('/v1/chat/completions')
      .set('authorization', `Bearer ${key}`)
      .send({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

  const metric = async (app: BootedApp, line: RegExp): Promise<number> => {
    const text = (await request(app.url).get('/metrics')).text;
    const m = text.split('\n').find((l) => line.test(l));
    return m ? Number(m.split(' ').pop()) : 0;
  };

  it('open keeps serving (counted, logged once), closed refuses, budgets reject, then limits resume', async () => {
    const limited = await tenantWithKey(open, {}, { rpm: 3 });
    const budgeted = await tenantWithKey(open, { monthlyBudgetUsd: 5 });
    for (let n = 0; n < 3; n++) await chat(open, limited.key).expect(200);
    await chat(open, limited.key).expect(429);
    await chat(open, budgeted.key).expect(200);

    await proxy.cut();
    cut = true;
    await new Promise((r) => setTimeout(r, 300));
    const allowedBefore = await metric(open, /^atp_ratelimit_store_unavailable_total\{outcome="allowed"\}/);
    // fail open: the limited key is served while nothing can count it
    for (let n = 0; n < 3; n++) {
      const res = await chat(open, limited.key);
      expect(res.status).toBe(200);
      expect(res.headers['x-ratelimit-remaining-requests']).toBeUndefined();
    }
    expect(await metric(open, /^atp_ratelimit_store_unavailable_total\{outcome="allowed"\}/)).toBe(
      allowedBefore + 3,
    );
    // fail closed on the other replica
    const refused = await chat(closed, limited.key).expect(503);
    expect(refused.body.error.code).toBe('rate_limit_unavailable');
    expect(refused.headers['retry-after']).toBeDefined();
    // budgets always fail closed
    const noBudget = await chat(open, budgeted.key).expect(503);
    expect(noBudget.body.error.code).toBe('budget_unavailable');
    // an unlimited key never needed the store
    const free = await tenantWithKey(open);
    await chat(open, free.key).expect(200);
    // one log line for the outage, not one per request (the Redis outage reporter is per
    // process: both replicas here share it)
    const outageLines = open.logs.filter((l) => l.includes('Redis unavailable'));
    expect(outageLines).toHaveLength(1);
    const ready = await request(open.url).get('/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.error.redis.status).toBe('down');

    await proxy.restore();
    cut = false;
    const deadline = Date.now() + 15_000;
    let res = await chat(open, limited.key);
    while (res.status === 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      res = await chat(open, limited.key);
    }
    // the window still holds the 3 requests counted before the outage: limited again, no restart
    expect(res.status).toBe(429);
    expect(res.body.error.code).toBe('rate_limit_exceeded');
    await chat(open, budgeted.key).expect(200);
    expect((await request(open.url).get('/ready')).status).toBe(200);
  });
});
