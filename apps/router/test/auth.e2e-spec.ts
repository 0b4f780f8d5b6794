import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { type AuthEvent, ApiKeyRepository, ApiKeyVerifier, SCOPES } from '@app/auth';
import { type BootedApp, bootApp, createTestEnv, SERVICES_LABEL, type TestEnv } from '@app/testing';
import {
  type DevCredentials,
  eventCapture,
  expectError,
  hs256,
  nowSeconds,
  readDevCredentials,
  unsigned,
} from '../../../test/auth-helpers';
import { AppModule } from '../src/app.module';

const ISSUER = 'atp-test-issuer';
const AUDIENCE = 'atp-test-api';

describe(`router authentication and tenancy on ${SERVICES_LABEL}`, () => {
  let testEnv: TestEnv;
  let booted: BootedApp;
  let dev: DevCredentials;
  let events: AuthEvent[];
  let devKeyId: string;
  /** Every secret this suite sees: none may appear in a log line. */
  const secrets: string[] = [];

  const get = (path: string, auth?: string) => {
    const r = request(booted.url).get(path);
    return auth === undefined ? r : r.set('authorization', auth);
  };
  const bearer = (credential: string) => `Bearer ${credential}`;
  const adminGet = (credential: string) => get('/v1/admin/api-keys', bearer(credential));

  async function createKey(credential: string, body: Record<string, unknown>) {
    const res = await request(booted.url)
      .post('/v1/admin/api-keys')
      .set('authorization', bearer(credential))
      .send(body);
    if (res.body?.key) secrets.push(res.body.key);
    return res;
  }

  function platformToken(
    claims: Record<string, unknown>,
    secret = testEnv.env.JWT_SECRET_KEY,
    header: Record<string, unknown> = {},
  ) {
    const now = nowSeconds();
    const token = hs256(
      { sub: 'tester', iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 300, ...claims },
      secret,
      header,
    );
    secrets.push(token);
    return token;
  }

  beforeAll(async () => {
    testEnv = await createTestEnv({ JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE });
    const capture = eventCapture();
    events = capture.events;
    booted = await bootApp('router', AppModule, testEnv.env, [capture.module]);
    dev = readDevCredentials(booted);
    secrets.push(dev.api_key, testEnv.env.JWT_SECRET_KEY);
    devKeyId = (await adminGet(dev.api_key).expect(200)).body.data[0].id;
  });
  afterAll(async () => {
    await booted?.close();
    await testEnv?.cleanup();
  });

  describe('development bootstrap', () => {
    it('wrote dev-credentials.json (0600) with a key holding every scope, and logged only the path', async () => {
      const file = join(booted.config.dataDir, 'dev-credentials.json');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(dev.api_key).toMatch(/^atp_[0-9A-Za-z]{43}$/);
      const res = await adminGet(dev.api_key).expect(200);
      expect(res.body.object).toBe('list');
      expect(res.body.data).toHaveLength(1);
      expect(res.body.data[0]).toMatchObject({
        tenant_id: dev.tenant_id,
        scopes: [...SCOPES],
        prefix: dev.api_key.slice(0, 12),
      });
      expect(JSON.stringify(res.body)).not.toContain(dev.api_key);
      expect(booted.logs.some((l) => l.includes(file))).toBe(true);
    });
  });

  describe('missing and malformed credentials → 401', () => {
    it('no Authorization header', async () => {
      const res = await get('/v1/admin/api-keys');
      expectError(res, 401, 'missing_credential');
      expect(res.headers['www-authenticate']).toBe('Bearer');
    });

    it.each([
      ['Basic dXNlcjpwYXNz'],
      ['Bearer'],
      ['Bearer    '],
      ['Bearer a b'],
      ['Token atp_x'],
      [`Bearer ${'a'.repeat(9000)}`],
    ])('malformed header %#', async (header) => {
      expectError(await get('/v1/admin/api-keys', header), 401, 'invalid_authorization_header');
    });

    it('something that is neither an API key nor a JWT', async () => {
      expectError(await adminGet('sk-not-ours-0123456789'), 401, 'invalid_token');
    });

    it('an unknown (well-formed) API key, and a malformed one', async () => {
      expectError(await adminGet(`atp_${'A'.repeat(43)}`), 401, 'invalid_api_key');
      expectError(await adminGet('atp_short'), 401, 'invalid_api_key');
    });
  });

  describe('API keys', () => {
    it('are created once-shown, listed without the key, and authenticate', async () => {
      const res = await createKey(dev.api_key, { name: 'ci', scopes: ['llm', 'admin'] });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        object: 'api_key',
        name: 'ci',
        scopes: ['llm', 'admin'],
        tenant_id: dev.tenant_id,
        expires_at: null,
        limits: null,
      });
      expect(res.body.key).toMatch(/^atp_[0-9A-Za-z]{43}$/);
      expect(res.body.prefix).toBe(res.body.key.slice(0, 12));
      expect(res.body.created_by).toBe(`api_key:${devKeyId}`);
      const list = await adminGet(res.body.key).expect(200);
      const listed = list.body.data.find((k: { id: string }) => k.id === res.body.id);
      expect(listed).toBeDefined();
      expect(listed.key).toBeUndefined();
      expect(JSON.stringify(list.body)).not.toContain(res.body.key);
    });

    it('a key without `admin` cannot use the admin API (403)', async () => {
      const llm = (await createKey(dev.api_key, { name: 'llm only', scopes: ['llm'] })).body;
      expectError(await adminGet(llm.key), 403, 'insufficient_scope');
      expectError(await createKey(llm.key, { name: 'x', scopes: ['llm'] }), 403, 'insufficient_scope');
      expectError(
        await request(booted.url)
          .delete(`/v1/admin/api-keys/${llm.id}`)
          .set('authorization', bearer(llm.key)),
        403,
        'insufficient_scope',
      );
      expectError(await get('/v1/admin/limits', bearer(llm.key)), 403, 'insufficient_scope');
      expectError(
        await request(booted.url)
          .put('/v1/admin/limits')
          .set('authorization', bearer(llm.key))
          .send({ rpm: 1 }),
        403,
        'insufficient_scope',
      );
    });

    it('cannot grant scopes the creator does not hold', async () => {
      const admin = (await createKey(dev.api_key, { name: 'tenant admin', scopes: ['admin'] })).body;
      const res = await createKey(admin.key, { name: 'escalate', scopes: ['admin', 'platform:admin'] });
      expectError(res, 403, 'insufficient_scope');
      expect(res.body.error.param).toBe('scopes');
    });

    it('validates the body, naming the param', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ scopes: ['llm'] }, 'name'],
        [{ name: 'x', scopes: [] }, 'scopes'],
        [{ name: 'x', scopes: ['root'] }, 'scopes'],
        [{ name: 'x', scopes: ['llm'], expires_at: 'tomorrow' }, 'expires_at'],
        [{ name: 'x', scopes: ['llm'], expires_at: '2001-01-01T00:00:00Z' }, 'expires_at'],
        [{ name: 'x', scopes: ['llm'], limits: { rpm: -1 } }, 'limits.rpm'],
        [{ name: 'x', scopes: ['llm'], limits: { pii_mode: 'shred' } }, 'limits.pii_mode'],
        [{ name: 'x', scopes: ['llm'], tenant_id: dev.tenant_id }, 'tenant_id'],
      ];
      for (const [body, param] of cases) {
        const res = await createKey(dev.api_key, body);
        expectError(res, 400, 'invalid_request');
        expect(res.body.error.param).toBe(param);
      }
    });

    it('stores a key’s own limits', async () => {
      const res = await createKey(dev.api_key, {
        name: 'limited',
        scopes: ['llm'],
        limits: { rpm: 10, allowed_models: ['gpt-4o-mini'] },
      });
      expect(res.status).toBe(201);
      expect(res.body.limits).toEqual({
        rpm: 10,
        tpm: null,
        concurrency: null,
        monthly_budget_usd: null,
        allowed_models: ['gpt-4o-mini'],
        pii_mode: null,
      });
    });

    it('a revoked key stops working at once on this instance; revoking again is 404', async () => {
      const key = (await createKey(dev.api_key, { name: 'to revoke', scopes: ['admin'] })).body;
      await adminGet(key.key).expect(200);
      await request(booted.url)
        .delete(`/v1/admin/api-keys/${key.id}`)
        .set('authorization', bearer(dev.api_key))
        .expect(204);
      const res = await adminGet(key.key);
      expectError(res, 401, 'invalid_api_key');
      const again = await request(booted.url)
        .delete(`/v1/admin/api-keys/${key.id}`)
        .set('authorization', bearer(dev.api_key));
      expectError(again, 404, 'api_key_not_found');
      const list = await adminGet(dev.api_key).expect(200);
      expect(list.body.data.map((k: { id: string }) => k.id)).not.toContain(key.id);
    });

    it('an expired key → 401', async () => {
      const key = (
        await createKey(dev.api_key, {
          name: 'short-lived',
          scopes: ['admin'],
          expires_at: new Date(Date.now() + 1500).toISOString(),
        })
      ).body;
      await adminGet(key.key).expect(200);
      await new Promise((r) => setTimeout(r, 1700));
      const res = await adminGet(key.key);
      expectError(res, 401, 'invalid_api_key');
      expect(res.body.error.message).toMatch(/expired/);
    });

    it('DELETE with an id that is not a UUID → 404', async () => {
      expectError(
        await request(booted.url)
          .delete('/v1/admin/api-keys/not-a-uuid')
          .set('authorization', bearer(dev.api_key)),
        404,
        'api_key_not_found',
      );
    });

    it('authenticating a key costs no database round trip per request (verified keys are cached)', async () => {
      const key = (await createKey(dev.api_key, { name: 'hot path', scopes: ['admin'] })).body;
      const lookups = jest.spyOn(booted.app.get(ApiKeyRepository), 'findActiveKeyByHash');
      try {
        await Promise.all(Array.from({ length: 10 }, () => adminGet(key.key).expect(200)));
        for (let i = 0; i < 10; i++) await adminGet(key.key).expect(200);
        expect(lookups).toHaveBeenCalledTimes(1);
      } finally {
        lookups.mockRestore();
      }
    });

    it('records last_used_at off the request path (batched)', async () => {
      const key = (await createKey(dev.api_key, { name: 'usage', scopes: ['admin'] })).body;
      expect(key.last_used_at).toBeNull();
      await adminGet(key.key).expect(200);
      await booted.app.get(ApiKeyVerifier).usage.flush();
      const list = await adminGet(dev.api_key).expect(200);
      const row = list.body.data.find((k: { id: string }) => k.id === key.id);
      expect(Date.parse(row.last_used_at)).toBeGreaterThan(Date.now() - 60_000);
    });
  });

  describe('platform JWTs (HS256)', () => {
    it('a valid token authenticates with its tenant and scopes', async () => {
      await adminGet(platformToken({ tenant_id: dev.tenant_id, scope: 'admin llm' })).expect(200);
      expectError(
        await adminGet(platformToken({ tenant_id: dev.tenant_id, scope: 'llm' })),
        403,
        'insufficient_scope',
      );
    });

    it('accepts ±60 s of clock skew, no more', async () => {
      await adminGet(
        platformToken({ tenant_id: dev.tenant_id, scope: 'admin', exp: nowSeconds() - 30 }),
      ).expect(200);
      expectError(
        await adminGet(platformToken({ tenant_id: dev.tenant_id, scope: 'admin', exp: nowSeconds() - 120 })),
        401,
        'invalid_token',
      );
      await adminGet(
        platformToken({ tenant_id: dev.tenant_id, scope: 'admin', nbf: nowSeconds() + 30 }),
      ).expect(200);
    });

    it.each<[string, () => string, RegExp]>([
      [
        'a bad signature',
        () =>
          platformToken(
            { tenant_id: dev.tenant_id, scope: 'admin' },
            'another-secret-of-at-least-32-bytes!!',
          ),
        /signature/,
      ],
      [
        'an expired token',
        () => platformToken({ tenant_id: dev.tenant_id, scope: 'admin', exp: nowSeconds() - 3600 }),
        /expired/,
      ],
      [
        'nbf in the future',
        () => platformToken({ tenant_id: dev.tenant_id, scope: 'admin', nbf: nowSeconds() + 3600 }),
        /not valid yet/,
      ],
      [
        'a wrong issuer',
        () => platformToken({ tenant_id: dev.tenant_id, scope: 'admin', iss: 'someone-else' }),
        /issuer/,
      ],
      [
        'a wrong audience',
        () => platformToken({ tenant_id: dev.tenant_id, scope: 'admin', aud: 'other-api' }),
        /audience/,
      ],
      ['no tenant claim', () => platformToken({ scope: 'admin' }), /tenant_id/],
      [
        'a tenant that does not exist',
        () => platformToken({ tenant_id: '00000000-0000-4000-8000-000000000000', scope: 'admin' }),
        /tenant/,
      ],
      ['no exp', () => platformToken({ tenant_id: dev.tenant_id, scope: 'admin', exp: undefined }), /exp/],
      [
        'alg: none',
        () =>
          unsigned({
            sub: 'x',
            tenant_id: dev.tenant_id,
            scope: 'admin',
            iss: ISSUER,
            aud: AUDIENCE,
            exp: nowSeconds() + 60,
          }),
        /algorithm/,
      ],
      [
        'alg: none relabelled HS256 with no signature',
        () => platformToken({ tenant_id: dev.tenant_id, scope: 'admin' }).replace(/\.[^.]+$/, '.'),
        /./,
      ],
      [
        'HS512',
        () =>
          platformToken({ tenant_id: dev.tenant_id, scope: 'admin' }, testEnv.env.JWT_SECRET_KEY, {
            alg: 'HS512',
          }),
        /algorithm/,
      ],
    ])('%s → 401 invalid_token', async (_name, token, message) => {
      const res = await adminGet(token());
      expectError(res, 401, 'invalid_token');
      expect(res.body.error.message).toMatch(message);
    });

    it('algorithm confusion: an HS256 token keyed with public RSA key material is refused', async () => {
      const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const pem = publicKey.export({ format: 'pem', type: 'spki' });
      const jwk = JSON.stringify(publicKey.export({ format: 'jwk' }));
      for (const secret of [pem, jwk]) {
        expectError(
          await adminGet(platformToken({ tenant_id: dev.tenant_id, scope: 'admin' }, secret.toString())),
          401,
          'invalid_token',
        );
      }
      // An RS256 token cannot pass as a platform token either: with no OIDC issuer it is refused outright.
      const rs = `${Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT' })).toString('base64url')}.${Buffer.from('{}').toString('base64url')}.${randomBytes(256).toString('base64url')}`;
      expectError(await adminGet(rs), 401, 'invalid_token');
    });
  });

  describe('tenancy', () => {
    let tenantB: string;
    let keyB: { id: string; key: string };
    let keyA: { id: string; key: string };

    beforeAll(async () => {
      const res = await request(booted.url)
        .post('/v1/admin/tenants')
        .set('authorization', bearer(dev.api_key))
        .send({ name: 'tenant-b' })
        .expect(201);
      tenantB = res.body.id;
      const adminB = platformToken({ tenant_id: tenantB, scope: 'admin llm' });
      keyB = (await createKey(adminB, { name: 'b admin', scopes: ['admin'] })).body;
      keyA = (await createKey(dev.api_key, { name: 'a admin', scopes: ['admin'] })).body;
    });

    it('POST /v1/admin/tenants → 201 {id, name, created_at}; a taken name → 409', async () => {
      const res = await request(booted.url)
        .post('/v1/admin/tenants')
        .set('authorization', bearer(dev.api_key))
        .send({ name: 'tenant-c' });
      expect(res.status).toBe(201);
      expect(Object.keys(res.body).sort()).toEqual(['created_at', 'id', 'name']);
      expect(res.body.name).toBe('tenant-c');
      const dup = await request(booted.url)
        .post('/v1/admin/tenants')
        .set('authorization', bearer(dev.api_key))
        .send({ name: 'tenant-c' });
      expectError(dup, 409, 'tenant_exists');
      expectError(
        await request(booted.url)
          .post('/v1/admin/tenants')
          .set('authorization', bearer(dev.api_key))
          .send({ name: ' ' }),
        400,
        'invalid_request',
      );
    });

    it('creating a tenant needs platform:admin (admin is not enough)', async () => {
      const res = await request(booted.url)
        .post('/v1/admin/tenants')
        .set('authorization', bearer(keyA.key))
        .send({ name: 'nope' });
      expectError(res, 403, 'insufficient_scope');
      expect(res.body.error.message).toContain('platform:admin');
    });

    it("a key of tenant A never sees tenant B's keys", async () => {
      const a = await adminGet(keyA.key).expect(200);
      const b = await adminGet(keyB.key).expect(200);
      expect(a.body.data.every((k: { tenant_id: string }) => k.tenant_id === dev.tenant_id)).toBe(true);
      expect(b.body.data.every((k: { tenant_id: string }) => k.tenant_id === tenantB)).toBe(true);
      expect(a.body.data.map((k: { id: string }) => k.id)).not.toContain(keyB.id);
      expect(b.body.data.map((k: { id: string }) => k.id)).toEqual([keyB.id]);
    });

    it("a key of tenant A cannot revoke tenant B's key (404, and B's key still works)", async () => {
      const res = await request(booted.url)
        .delete(`/v1/admin/api-keys/${keyB.id}`)
        .set('authorization', bearer(keyA.key));
      expectError(res, 404, 'api_key_not_found');
      await adminGet(keyB.key).expect(200);
      expectError(
        await request(booted.url)
          .delete(`/v1/admin/api-keys/${keyA.id}`)
          .set('authorization', bearer(keyB.key)),
        404,
        'api_key_not_found',
      );
      await adminGet(keyA.key).expect(200);
    });

    it("limits are the caller's tenant's", async () => {
      const empty = {
        rpm: null,
        tpm: null,
        concurrency: null,
        monthly_budget_usd: null,
        allowed_models: null,
        pii_mode: null,
      };
      expect((await get('/v1/admin/limits', bearer(keyB.key)).expect(200)).body).toEqual(empty);
      const limits = {
        rpm: 60,
        tpm: 10000,
        concurrency: 4,
        monthly_budget_usd: 12.5,
        allowed_models: ['gpt-4o-mini', 'fast'],
        pii_mode: 'redact',
      };
      const put = await request(booted.url)
        .put('/v1/admin/limits')
        .set('authorization', bearer(keyB.key))
        .send(limits)
        .expect(200);
      expect(put.body).toEqual(limits);
      expect((await get('/v1/admin/limits', bearer(keyB.key)).expect(200)).body).toEqual(limits);
      expect((await get('/v1/admin/limits', bearer(keyA.key)).expect(200)).body).toEqual(empty);
      // PUT replaces: what is left out no longer applies.
      await request(booted.url)
        .put('/v1/admin/limits')
        .set('authorization', bearer(keyB.key))
        .send({ rpm: 5 })
        .expect(200);
      expect((await get('/v1/admin/limits', bearer(keyB.key)).expect(200)).body).toEqual({
        ...empty,
        rpm: 5,
      });
    });

    it.each<[Record<string, unknown>, string]>([
      [{ rpm: -1 }, 'rpm'],
      [{ tpm: 1.5 }, 'tpm'],
      [{ concurrency: 'many' }, 'concurrency'],
      [{ monthly_budget_usd: -3 }, 'monthly_budget_usd'],
      [{ allowed_models: 'gpt-4o' }, 'allowed_models'],
      [{ allowed_models: [''] }, 'allowed_models'],
      [{ pii_mode: 'shred' }, 'pii_mode'],
      [{ burst: 5 }, 'burst'],
    ])('PUT /v1/admin/limits %j → 400 naming the param', async (body, param) => {
      const res = await request(booted.url)
        .put('/v1/admin/limits')
        .set('authorization', bearer(keyA.key))
        .send(body);
      expectError(res, 400, 'invalid_request');
      expect(res.body.error.param).toBe(param);
    });
  });

  describe('open routes', () => {
    it.each(['/health', '/ready', '/metrics', '/docs', '/openapi.json'])(
      '%s needs no credential',
      async (path) => {
        await get(path).expect(200);
      },
    );

    it('the admin API is in the OpenAPI document with bearer security', async () => {
      const spec = (await get('/openapi.json').expect(200)).body;
      for (const path of [
        '/v1/admin/tenants',
        '/v1/admin/api-keys',
        '/v1/admin/api-keys/{id}',
        '/v1/admin/limits',
      ])
        expect(spec.paths[path]).toBeDefined();
      expect(spec.paths['/v1/admin/api-keys'].post.security).toEqual([{ bearer: [] }]);
    });
  });

  describe('audit hooks and logs', () => {
    it('emits auth.denied, apikey.created, apikey.revoked and tenant.created without secrets', async () => {
      const actions = new Set(events.map((e) => e.action));
      for (const a of ['auth.denied', 'apikey.created', 'apikey.revoked', 'tenant.created'])
        expect(actions).toContain(a);
      const denied = events.find((e) => e.action === 'auth.denied' && e.reason === 'insufficient_scope')!;
      expect(denied).toMatchObject({
        outcome: 'denied',
        statusCode: 403,
        tenantId: dev.tenant_id,
        resourceType: 'route',
      });
      expect(denied.requestId).toBeTruthy();
      expect(denied.sourceIp).toBeTruthy();
      const created = events.find(
        (e) => e.action === 'apikey.created' && e.actorId === `api_key:${devKeyId}`,
      )!;
      expect(created).toMatchObject({
        outcome: 'success',
        statusCode: 201,
        tenantId: dev.tenant_id,
        credentialId: devKeyId,
        resourceType: 'api_key',
      });
      const revoked = events.find((e) => e.action === 'apikey.revoked')!;
      expect(revoked).toMatchObject({
        outcome: 'success',
        statusCode: 204,
        tenantId: dev.tenant_id,
        actorId: `api_key:${devKeyId}`,
      });
      expect(
        events.find((e) => e.action === 'tenant.created' && e.actorId === `api_key:${devKeyId}`),
      ).toBeDefined();
      expect(
        events.find((e) => e.action === 'auth.denied' && e.statusCode === 401 && e.tenantId === null),
      ).toBeDefined();
      const serialized = JSON.stringify(events);
      for (const s of secrets) expect(serialized).not.toContain(s);
    });

    it('no log line holds a key, token or secret', async () => {
      await new Promise((r) => setTimeout(r, 50));
      const logs = booted.logs.join('\n');
      expect(secrets.length).toBeGreaterThan(10);
      for (const s of secrets) expect(logs).not.toContain(s);
    });
  });
});
