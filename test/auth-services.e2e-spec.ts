import request from 'supertest';
import { API_KEY_CACHE_TTL_MS } from '@app/auth';
import { SERVICES_LABEL, usingRedis } from '@app/testing';
import { AuthProbeModule, expectError, readDevCredentials, waitFor } from './auth-helpers';
import { useRouterAndGateway } from './router-and-gateway';

/** Both services on one database: one set of credentials, revocations seen by both. */
describe(`credentials across the router and the memory gateway on ${SERVICES_LABEL}`, () => {
  const s = useRouterAndGateway({ gatewayImports: [AuthProbeModule] });

  it('a key created on the router works on the gateway until it is revoked on the router', async () => {
    const dev = readDevCredentials(s.router);
    const created = await request(s.router.url)
      .post('/v1/admin/api-keys')
      .set('authorization', `Bearer ${dev.api_key}`)
      .send({ name: 'both', scopes: ['memory:read'] });
    expect(created.status).toBe(201);
    const key = created.body.key as string;
    const onGateway = () =>
      request(s.gateway.url).get('/v1/__auth-probe/read').set('authorization', `Bearer ${key}`);
    await onGateway().expect(200);
    await request(s.router.url)
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
    expect([...s.router.logs, ...s.gateway.logs].join('\n')).not.toContain(key);
  });
});
