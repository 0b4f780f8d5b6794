import request from 'supertest';
import { ApiKeyService, operatorCaller, type Scope, SCOPES } from '@app/auth';
import { type BootedApp, bootApp, createTestEnv, SERVICES_LABEL, type TestEnv } from '@app/testing';
import {
  AuthProbeModule,
  type DevCredentials,
  expectError,
  readDevCredentials,
} from '../../../test/auth-helpers';
import { AppModule } from '../src/app.module';

describe(`memory gateway authentication on ${SERVICES_LABEL}`, () => {
  let testEnv: TestEnv;
  let gateway: BootedApp;
  let dev: DevCredentials;
  const secrets: string[] = [];

  const probe = (path: string, credential?: string) => {
    const r = request(gateway.url).get(`/v1/__auth-probe/${path}`);
    return credential ? r.set('authorization', `Bearer ${credential}`) : r;
  };
  /** The gateway has no admin routes (the router does): keys come from the shared service. */
  const createKey = async (scopes: Scope[]) => {
    const { key, record } = await gateway.app.get(ApiKeyService).createKey({
      tenantId: dev.tenant_id,
      name: `gateway ${scopes.join(',')}`,
      scopes,
      actor: operatorCaller('test'),
    });
    secrets.push(key);
    return { id: record.id, key };
  };

  beforeAll(async () => {
    testEnv = await createTestEnv();
    gateway = await bootApp('memory-gateway', AppModule, testEnv.env, [AuthProbeModule]);
    dev = readDevCredentials(gateway);
    secrets.push(dev.api_key, testEnv.env.JWT_SECRET_KEY);
  });
  afterAll(async () => {
    await gateway?.close();
    await testEnv?.cleanup();
  });

  it('the development key (bootstrapped by the gateway) authenticates with every scope', async () => {
    const res = await probe('read', dev.api_key).expect(200);
    expect(res.body).toEqual({ tenant_id: dev.tenant_id, scopes: [...SCOPES] });
  });

  it('no credential → 401; a bad one → 401; no scope → 403', async () => {
    expectError(await probe('read'), 401, 'missing_credential');
    expectError(await probe('read', `atp_${'z'.repeat(43)}`), 401, 'invalid_api_key');
    expectError(await probe('read', 'not-a-credential'), 401, 'invalid_token');
    const llm = await createKey(['llm']);
    expectError(await probe('read', llm.key), 403, 'insufficient_scope');
  });

  it('routes under /v1 without a declared policy still need a credential; @Public() opens one', async () => {
    expectError(await probe('undeclared'), 401, 'missing_credential');
    const llm = await createKey(['llm']);
    await probe('undeclared', llm.key).expect(200);
    await probe('public').expect(200);
  });

  it.each(['/health', '/ready', '/metrics', '/docs', '/openapi.json'])('%s stays open', async (path) => {
    await request(gateway.url).get(path).expect(200);
  });

  it('a revoked key is refused at once', async () => {
    const key = await createKey(['memory:read']);
    await probe('read', key.key).expect(200);
    await gateway.app.get(ApiKeyService).revokeKey({
      tenantId: dev.tenant_id,
      keyId: key.id,
      actor: operatorCaller('test'),
    });
    expectError(await probe('read', key.key), 401, 'invalid_api_key');
  });

  it('x-api-key carries the credential like Bearer (same verification); two different ones → 401', async () => {
    const xKey = (credential: string) =>
      request(gateway.url).get('/v1/__auth-probe/read').set('x-api-key', credential);
    expect((await xKey(dev.api_key).expect(200)).body).toEqual({
      tenant_id: dev.tenant_id,
      scopes: [...SCOPES],
    });
    await xKey(dev.api_key).set('authorization', `Bearer ${dev.api_key}`).expect(200);
    const reader = await createKey(['memory:read']);
    expectError(
      await xKey(dev.api_key).set('authorization', `Bearer ${reader.key}`),
      401,
      'conflicting_credentials',
    );
    expectError(await xKey(`atp_${'z'.repeat(43)}`), 401, 'invalid_api_key');
    expectError(await xKey('not-a-credential'), 401, 'invalid_token');
    expectError(await xKey('a b'), 401, 'invalid_api_key_header');
    const llm = await createKey(['llm']);
    expectError(await xKey(llm.key), 403, 'insufficient_scope');
  });

  it('no log line holds a key or secret', () => {
    const logs = gateway.logs.join('\n');
    for (const s of secrets) expect(logs).not.toContain(s);
  });
});
