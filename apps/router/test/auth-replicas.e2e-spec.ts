import request from 'supertest';
import { API_KEY_CACHE_TTL_MS } from '@app/auth';
import {
  type BootedApp,
  bootApp,
  createTestEnv,
  SERVICES_LABEL,
  type TestEnv,
  usingRedis,
} from '@app/testing';
import { expectError, readDevCredentials, waitFor } from '../../../test/auth-helpers';
import { AppModule } from '../src/app.module';

function bootReplica(env: Record<string, string>): Promise<BootedApp> {
  return bootApp('router', AppModule, env);
}

describe(`router replicas share revocations on ${SERVICES_LABEL}`, () => {
  let testEnv: TestEnv;
  let a: BootedApp;
  let b: BootedApp;

  beforeAll(async () => {
    testEnv = await createTestEnv();
    a = await bootReplica(testEnv.env);
    b = await bootReplica(testEnv.env);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await testEnv?.cleanup();
  });

  it(
    usingRedis
      ? 'a key revoked on replica A is refused by replica B well within the 5 s bound (Redis pub/sub)'
      : 'a key revoked on replica A is refused by replica B within the 5 s cache TTL (in-process stores share nothing)',
    async () => {
      const dev = readDevCredentials(a);
      const created = await request(a.url)
        .post('/v1/admin/api-keys')
        .set('authorization', `Bearer ${dev.api_key}`)
        .send({ name: 'replicated', scopes: ['admin'] });
      expect(created.status).toBe(201);
      const key = created.body.key as string;
      // B verifies (and caches) the key.
      await request(b.url).get('/v1/admin/api-keys').set('authorization', `Bearer ${key}`).expect(200);
      await request(a.url)
        .delete(`/v1/admin/api-keys/${created.body.id}`)
        .set('authorization', `Bearer ${dev.api_key}`)
        .expect(204);
      const elapsed = await waitFor(
        async () =>
          (await request(b.url).get('/v1/admin/api-keys').set('authorization', `Bearer ${key}`)).status ===
          401,
        API_KEY_CACHE_TTL_MS + 1000,
        50,
      );
      // With Redis the revocation message arrives in milliseconds; without it only the TTL bounds the lag.
      expect(elapsed).toBeLessThan(usingRedis ? 1500 : API_KEY_CACHE_TTL_MS + 500);
      const res = await request(b.url).get('/v1/admin/api-keys').set('authorization', `Bearer ${key}`);
      expectError(res, 401, 'invalid_api_key');
      expectError(
        await request(a.url).get('/v1/admin/api-keys').set('authorization', `Bearer ${key}`),
        401,
        'invalid_api_key',
      );
      for (const logs of [a.logs, b.logs]) expect(logs.join('\n')).not.toContain(key);
    },
  );
});

describe(`development bootstrap race on ${SERVICES_LABEL}`, () => {
  let testEnv: TestEnv;
  let apps: BootedApp[] = [];

  beforeAll(async () => {
    testEnv = await createTestEnv();
  });
  afterAll(async () => {
    await Promise.all(apps.map((x) => x.close()));
    await testEnv?.cleanup();
  });

  it('two instances starting at once on an empty database create one tenant and one key that works on both', async () => {
    const first = bootApp('router', AppModule, testEnv.env);
    const second = bootReplica(testEnv.env);
    apps = await Promise.all([first, second]);
    const creds = readDevCredentials(testEnv.dataDir);
    expect(Object.keys(creds).sort()).toEqual(['api_key', 'tenant_id']);
    expect(readDevCredentials(apps[1])).toEqual(creds);
    for (const app of apps) {
      const res = await request(app.url)
        .get('/v1/admin/api-keys')
        .set('authorization', `Bearer ${creds.api_key}`)
        .expect(200);
      expect(res.body.data).toHaveLength(1);
      expect(res.body.data[0].tenant_id).toBe(creds.tenant_id);
    }
    // Nest's Logger is process-wide, so in one process an app's lines may land in another's
    // capture: check them all for the key (the single-app suite checks that the path is logged).
    expect([...apps[0].logs, ...apps[1].logs].join('\n')).not.toContain(creds.api_key);
    // The platform admin can see that exactly one tenant named "default" exists: creating it again conflicts.
    const dup = await request(apps[0].url)
      .post('/v1/admin/tenants')
      .set('authorization', `Bearer ${creds.api_key}`)
      .send({ name: 'default' });
    expectError(dup, 409, 'tenant_exists');
  });
});
