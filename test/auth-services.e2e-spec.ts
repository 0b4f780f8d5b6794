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
import { AppModule as GatewayModule } from '../apps/memory-gateway/src/app.module';
import { AppModule as RouterModule } from '../apps/router/src/app.module';
import { AuthProbeModule, expectError, readDevCredentials, waitFor } from './auth-helpers';

/** Both services on one database: one set of credentials, revocations seen by both. */
describe(`credentials across the router and the memory gateway on ${SERVICES_LABEL}`, () => {
  let testEnv: TestEnv;
  let router: BootedApp;
  let gateway: BootedApp;

  beforeAll(async () => {
    testEnv = await createTestEnv();
    router = await bootApp('router', RouterModule, testEnv.env);
    gateway = await bootApp('memory-gateway', GatewayModule, testEnv.env, [AuthProbeModule]);
  });
  afterAll(async () => {
    await gateway?.close();
    await router?.close();
    await testEnv?.cleanup();
  });

  it('a key created on the router works on the gateway until it is revoked on the router', async () => {
    const dev = readDevCredentials(router);
    const created = await request(router.url)
      .post('/v1/admin/api-keys')
      .set('authorization', `Bearer ${dev.api_key}`)
      .send({ name: 'both', scopes: ['memory:read'] });
    expect(created.status).toBe(201);
    const key = created.body.key as string;
    const onGateway = () =>
      request(gateway.url).get('/v1/__auth-probe/read').set('authorization', `Bearer ${key}`);
    await onGateway().expect(200);
    await request(router.url)
      .delete(`/v1/admin/api-keys/${created.body.id}`)
      .set('authorization', `Bearer ${dev.api_key}`)
      .expect(204);
    const elapsed = await waitFor(
      async () => (await onGateway()).status === 401,
      API_KEY_CACHE_TTL_MS + 1000,
      50,
    );
    expect(elapsed).toBeLessThan(usingRedis ? 1500 : API_KEY_CACHE_TTL_MS + 500);
    expectError(await onGateway(), 401, 'invalid_api_key');
    expect([...router.logs, ...gateway.logs].join('\n')).not.toContain(key);
  });
});
