import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { AuthClock, AuthModule } from '@app/auth';
import { loadConfig } from '@app/config';
import { type BootedApp, bootApp, createTestEnv, SERVICES_LABEL, type TestEnv } from '@app/testing';
import {
  type DevCredentials,
  expectError,
  hs256,
  type IssuerKey,
  newIssuerKey,
  nowSeconds,
  readDevCredentials,
  signAsym,
  TestIssuer,
  tripwireServer,
} from '../../../test/auth-helpers';
import { AppModule } from '../src/app.module';

const CLIENT_ID = 'atp-test-client';

describe(`router OIDC tokens on ${SERVICES_LABEL}`, () => {
  let issuer: TestIssuer;
  let rsa: IssuerKey;
  let ec: IssuerKey;
  let testEnv: TestEnv;
  let booted: BootedApp;
  let dev: DevCredentials;
  let clockOffsetMs = 0;
  const secrets: string[] = [];

  const list = (token: string) =>
    request(booted.url).get('/v1/admin/api-keys').set('authorization', `Bearer ${token}`);
  const token = (
    key: IssuerKey,
    claims: Record<string, unknown> = {},
    header: Record<string, unknown> = {},
  ) => {
    const t = issuer.token(
      key,
      { sub: 'user-1', aud: CLIENT_ID, tenant_id: dev.tenant_id, scope: 'openid profile admin', ...claims },
      header,
    );
    secrets.push(t);
    return t;
  };

  beforeAll(async () => {
    issuer = await new TestIssuer().start();
    rsa = newIssuerKey('RS256');
    ec = newIssuerKey('ES256');
    issuer.keys = [rsa, ec];
    testEnv = await createTestEnv({
      OIDC_ISSUER_URL: issuer.url,
      OIDC_CLIENT_ID: CLIENT_ID,
      OIDC_CLIENT_SECRET: 'oidc-client-secret-canary-7f3a',
    });
    secrets.push('oidc-client-secret-canary-7f3a', testEnv.env.JWT_SECRET_KEY);
    booted = await bootApp('router', AppModule, testEnv.env);
    jest.spyOn(booted.app.get(AuthClock), 'now').mockImplementation(() => Date.now() + clockOffsetMs);
    dev = readDevCredentials(booted);
    secrets.push(dev.api_key);
  });
  afterAll(async () => {
    await booted?.close();
    await testEnv?.cleanup();
    await issuer?.stop();
  });

  it('a valid RS256 token from the issuer authenticates (scopes from `scope`, unknown ones ignored)', async () => {
    await list(token(rsa)).expect(200);
    expect(issuer.jwksHits).toBe(1);
    expectError(await list(token(rsa, { scope: 'openid llm' })), 403, 'insufficient_scope');
  });

  it('a valid ES256 token authenticates from the cached JWKS', async () => {
    await list(token(ec)).expect(200);
    expect(issuer.jwksHits).toBe(1);
  });

  it.each<[string, () => string, RegExp]>([
    ['a wrong audience', () => token(rsa, { aud: 'someone-else' }), /audience/],
    ['a wrong issuer', () => token(rsa, { iss: 'https://evil.example.com' }), /issuer/],
    ['an expired token', () => token(rsa, { exp: nowSeconds() - 600 }), /expired/],
    ['nbf in the future', () => token(rsa, { nbf: nowSeconds() + 600 }), /not valid yet/],
    ['no tenant claim', () => token(rsa, { tenant_id: undefined }), /tenant_id/],
    [
      'a tampered payload',
      () =>
        token(rsa).replace(
          /^([^.]+)\.[^.]+/,
          (_m, h) =>
            `${h}.${Buffer.from(JSON.stringify({ sub: 'x', aud: CLIENT_ID, tenant_id: dev.tenant_id, scope: 'admin platform:admin', iss: issuer.url, exp: nowSeconds() + 60 })).toString('base64url')}`,
        ),
      /signature/,
    ],
    [
      'alg: none',
      () =>
        `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'x', aud: CLIENT_ID, iss: issuer.url, tenant_id: dev.tenant_id, exp: nowSeconds() + 60 })).toString('base64url')}.`,
      /algorithm/,
    ],
  ])('%s → 401 invalid_token', async (_name, make, message) => {
    const res = await list(make());
    expectError(res, 401, 'invalid_token');
    expect(res.body.error.message).toMatch(message);
  });

  it('algorithm confusion: HS256 signed with the issuer’s public key (PEM or JWK) never passes', async () => {
    const claims = {
      sub: 'x',
      aud: CLIENT_ID,
      iss: issuer.url,
      tenant_id: dev.tenant_id,
      scope: 'admin',
      exp: nowSeconds() + 60,
    };
    const pem = rsa.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const jwk = JSON.stringify(rsa.publicKey.export({ format: 'jwk' }));
    for (const secret of [pem, jwk]) {
      const res = await list(hs256(claims, secret, { kid: rsa.kid }));
      expectError(res, 401, 'invalid_token');
    }
  });

  it('a token signed by another key under a known kid → 401', async () => {
    const forged = signAsym(
      'RS256',
      newIssuerKey('RS256').privateKey,
      {
        sub: 'x',
        aud: CLIENT_ID,
        iss: issuer.url,
        tenant_id: dev.tenant_id,
        scope: 'admin',
        exp: nowSeconds() + 60,
      },
      { kid: rsa.kid },
    );
    expectError(await list(forged), 401, 'invalid_token');
  });

  it('jku, x5u and an embedded jwk are never followed', async () => {
    const tripwire = await tripwireServer();
    try {
      const attacker = newIssuerKey('RS256', 'attacker');
      const forged = signAsym(
        'RS256',
        attacker.privateKey,
        {
          sub: 'x',
          aud: CLIENT_ID,
          iss: issuer.url,
          tenant_id: dev.tenant_id,
          scope: 'admin',
          exp: nowSeconds() + 60,
        },
        {
          kid: 'attacker',
          jku: `${tripwire.url}/jwks`,
          x5u: `${tripwire.url}/cert`,
          jwk: { ...attacker.publicKey.export({ format: 'jwk' }), kid: 'attacker' },
        },
      );
      expectError(await list(forged), 401, 'invalid_token');
      expect(tripwire.hits()).toBe(0);
    } finally {
      await tripwire.close();
    }
  });

  it('an unknown kid → 401; refetches of the JWKS for unknown kids are rate-limited (30 s)', async () => {
    clockOffsetMs += 31_000;
    const before = issuer.jwksHits;
    const stranger = newIssuerKey('ES256', 'not-published');
    let res = await list(
      issuer.token(stranger, { sub: 'x', aud: CLIENT_ID, tenant_id: dev.tenant_id, scope: 'admin' }),
    );
    expectError(res, 401, 'invalid_token');
    expect(res.body.error.message).toMatch(/kid/);
    expect(issuer.jwksHits).toBe(before + 1);
    for (let i = 0; i < 5; i++) {
      res = await list(
        issuer.token(newIssuerKey('ES256', `unknown-${i}`), {
          sub: 'x',
          aud: CLIENT_ID,
          tenant_id: dev.tenant_id,
        }),
      );
      expectError(res, 401, 'invalid_token');
    }
    expect(issuer.jwksHits).toBe(before + 1);
  });

  it('a rotated key is picked up once the cool-down allows a refetch; the removed key stops working', async () => {
    const rotated = newIssuerKey('RS256', 'rotated');
    issuer.keys = [rotated, ec];
    const fresh = token(rotated);
    expectError(await list(fresh), 401, 'invalid_token');
    clockOffsetMs += 31_000;
    const before = issuer.jwksHits;
    await list(fresh).expect(200);
    expect(issuer.jwksHits).toBe(before + 1);
    expectError(await list(token(rsa)), 401, 'invalid_token');
  });

  it('OIDC_CONFIG_FILE (the mounted atp-oidc-secret JSON) configures OIDC, with custom claims', async () => {
    const file = join(testEnv.dataDir, 'oidc.json');
    writeFileSync(
      file,
      JSON.stringify({
        issuer_url: issuer.url,
        client_id: 'file-client',
        client_secret: 'file-secret-canary-91c2',
        tenant_claim: 'https://atp.dev/tenant',
        scopes_claim: 'permissions',
      }),
      { mode: 0o600 },
    );
    const env = {
      ...testEnv.env,
      OIDC_ISSUER_URL: '',
      OIDC_CLIENT_ID: '',
      OIDC_CLIENT_SECRET: '',
      OIDC_CONFIG_FILE: file,
    };
    const second = await bootApp('router', AppModule, env);
    try {
      const t = issuer.token(ec, {
        sub: 'u2',
        aud: 'file-client',
        'https://atp.dev/tenant': dev.tenant_id,
        permissions: ['admin'],
      });
      await request(second.url).get('/v1/admin/api-keys').set('authorization', `Bearer ${t}`).expect(200);
      const wrongAud = issuer.token(ec, {
        sub: 'u2',
        aud: CLIENT_ID,
        'https://atp.dev/tenant': dev.tenant_id,
        permissions: ['admin'],
      });
      expectError(
        await request(second.url).get('/v1/admin/api-keys').set('authorization', `Bearer ${wrongAud}`),
        401,
        'invalid_token',
      );
      expect(second.logs.join('\n')).not.toContain('file-secret-canary-91c2');
      expect(second.logs.join('\n')).not.toContain(t);
    } finally {
      await second.close();
    }
  });

  it('refuses to start with a non-loopback http:// issuer or a broken config file', () => {
    const build = (extra: Record<string, string>) => () =>
      AuthModule.forRoot(loadConfig('router', { ...testEnv.env, ...extra }));
    expect(build({ OIDC_ISSUER_URL: 'http://idp.example.com', OIDC_CLIENT_ID: 'x' })).toThrow(/https:\/\//);
    expect(build({ OIDC_ISSUER_URL: 'http://localhost.example.com', OIDC_CLIENT_ID: 'x' })).toThrow(
      /https:\/\//,
    );
    expect(build({ OIDC_ISSUER_URL: '', OIDC_CONFIG_FILE: join(testEnv.dataDir, 'missing.json') })).toThrow(
      /OIDC_CONFIG_FILE/,
    );
  });

  it('no log line holds a token or secret', () => {
    const logs = booted.logs.join('\n');
    for (const s of secrets) expect(logs).not.toContain(s);
  });
});
