import request from 'supertest';
import { TenantService } from '@app/auth';
import { startFakeUpstream, type FakeUpstream } from '@app/providers/testing';
import {
  bootApp,
  type BootedApp,
  canRunOwnPostgres,
  createTestEnv,
  OwnPostgres,
  type TestEnv,
} from '@app/testing';
import { AppModule } from '../../apps/router/src/app.module';
import { ACTOR, tenantWithKey, upstreamEnv } from '../../apps/router/test/governance-helpers';
import { hs256, nowSeconds } from '../auth-helpers';
import { eventually, sleep } from './outage-helpers';

/**
 * Issue 16, defect 4: with PostgreSQL down, JWT callers got 500 internal_error (the tenant-limits
 * lookup had no fallback) and every refused request wrote an ERROR line (133,264 in a 60 s
 * outage). Now: what the process has cached keeps working, everything else is a 503 in the
 * envelope with Retry-After, and the outage is logged once when it starts and once when it ends.
 * The router runs in process on a PostgreSQL of this test's own, which the test fast-stops.
 */
const suite = canRunOwnPostgres ? describe : describe.skip;
jest.setTimeout(120_000);

suite('router through a PostgreSQL outage (own PostgreSQL, in-process cache)', () => {
  let pg: OwnPostgres;
  let upstream: FakeUpstream;
  let testEnv: TestEnv;
  let router: BootedApp;
  let seen: { tenantId: string; key: string };
  let unseenKey: { key: string };
  let limitsNeverRead: string;

  const token = (tenantId: string) =>
    hs256(
      { sub: 'outage', tenant_id: tenantId, scope: 'llm', iat: nowSeconds(), exp: nowSeconds() + 600 },
      testEnv.env.JWT_SECRET_KEY,
    );
  const chat = (credential: string) =>
    request(router.url)
      .post('/v1/chat/completions')
      .set('authorization', `Bearer ${credential}`)
      .timeout(30_000)
      .send({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

  function expectOutage503(res: request.Response, code: string): void {
    expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 503, code });
    expect(res.headers['retry-after']).toBe('5');
    expect(Object.keys(res.body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  }

  beforeAll(async () => {
    [pg, upstream] = await Promise.all([OwnPostgres.start(), startFakeUpstream()]);
    testEnv = await createTestEnv({ ...upstreamEnv(upstream), LOG_LEVEL: 'INFO' });
    const env = { ...testEnv.env, DATABASE_URL: pg.url };
    delete (env as Record<string, string>).REDIS_URL;
    router = await bootApp('router', AppModule, env);
    seen = await tenantWithKey(router);
    unseenKey = await tenantWithKey(router);
    const other = await router.app
      .get(TenantService)
      .createTenant({ name: 'limits-never-read', actor: ACTOR });
    limitsNeverRead = other.id;
  });
  afterAll(async () => {
    await router?.close();
    await pg?.destroy();
    await upstream?.close();
    await testEnv?.cleanup();
  });

  it('cached callers keep working, the rest get 503 with Retry-After, and the outage is logged once', async () => {
    // Seen before the outage: the key (verified), the tenant (exists, limits read).
    expect((await chat(seen.key)).status).toBe(200);
    expect((await chat(token(seen.tenantId))).status).toBe(200);
    // This tenant's token is accepted (the tenant is known to exist) but its limits were never read.
    const warm = await request(router.url)
      .get('/v1/usage')
      .set('authorization', `Bearer ${token(limitsNeverRead)}`);
    expect(warm.status).toBe(200);

    const logsBefore = router.logs.length;
    await pg.stop('fast');
    await sleep(2500); // past the tenant limits' 2 s freshness: the old code went to the database here

    // A JWT caller whose limits are cached keeps working (the old code: 500 internal_error).
    const jwtSeen = await chat(token(seen.tenantId));
    expect({ status: jwtSeen.status, body: jwtSeen.status === 200 ? 'ok' : jwtSeen.body }).toEqual({
      status: 200,
      body: 'ok',
    });
    // A JWT caller whose limits were never read: 503, not 500.
    expectOutage503(await chat(token(limitsNeverRead)), 'database_unavailable');
    // An API key never verified by this process: 503 auth_unavailable.
    expectOutage503(await chat(unseenKey.key), 'auth_unavailable');
    // The usage API reads the database.
    const usage = await request(router.url)
      .get('/v1/usage')
      .set('authorization', `Bearer ${token(seen.tenantId)}`)
      .timeout(30_000);
    expectOutage503(usage, 'database_unavailable');

    // A burst of refused requests writes no line per request.
    const burst = await Promise.all(Array.from({ length: 100 }, () => chat(unseenKey.key)));
    expect(burst.filter((r) => r.status !== 503)).toEqual([]);
    const during = router.logs.slice(logsBefore);
    const errorLines = during.filter((l) => /"severity":"(ERROR|CRITICAL|ALERT|EMERGENCY)"/.test(l));
    const outageLines = during.filter((l) => l.includes('PostgreSQL unavailable'));
    // eslint-disable-next-line no-console
    console.log(
      `PostgreSQL down: ${during.length} log lines for ${burst.length + 4} requests, ${errorLines.length} at ERROR`,
    );
    expect(outageLines).toHaveLength(1);
    expect(errorLines).toEqual([]);

    await pg.resume();
    const back = await eventually(
      () => chat(unseenKey.key),
      (r) => r.status === 200,
      20_000,
    );
    expect(back.status).toBe(200);
    await eventually(
      async () => router.logs.filter((l) => l.includes('PostgreSQL available again')).length,
      (n) => n === 1,
      5_000,
    );
    expect(router.logs.filter((l) => l.includes('PostgreSQL available again'))).toHaveLength(1);
    expect((await chat(token(limitsNeverRead))).status).toBe(200);
  });
});
