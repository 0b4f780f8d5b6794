import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import request from 'supertest';
import { bootApp, type BootedApp, createTestEnv, SERVICES_LABEL, type TestEnv } from '@app/testing';
import {
  type IssuerKey,
  newIssuerKey,
  nowSeconds,
  readDevCredentials,
  signAsym,
} from '../../../test/auth-helpers';
import { AppModule } from '../src/app.module';
import { CHROMIUM, CHROMIUM_ARGS, ensureConsoleBuilt } from './console-helpers';

const CLIENT_ID = 'atp-console-test';
const CLIENT_SECRET = 'console-oidc-secret-canary-91c2';

/**
 * A small OIDC provider on loopback: discovery, JWKS, an authorization endpoint that signs the
 * configured user in at once (no login form) and a token endpoint that checks the client, the
 * redirect URI and the PKCE verifier (S256) before issuing an RS256 ID token with the nonce.
 */
class FakeIdp {
  private server: Server | null = null;
  url = '';
  key: IssuerKey = newIssuerKey('RS256');
  user: Record<string, unknown> = {};
  /** Overrides of the next ID token's claims (e.g. a wrong nonce). */
  tamper: Record<string, unknown> = {};
  private codes = new Map<string, { challenge: string; nonce: string; redirectUri: string }>();
  tokenRequests: URLSearchParams[] = [];

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const u = new URL(req.url ?? '/', this.url);
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (u.pathname === '/.well-known/openid-configuration')
        return json(200, {
          issuer: this.url,
          jwks_uri: `${this.url}/jwks`,
          authorization_endpoint: `${this.url}/authorize`,
          token_endpoint: `${this.url}/token`,
          id_token_signing_alg_values_supported: ['RS256'],
          code_challenge_methods_supported: ['S256'],
        });
      if (u.pathname === '/jwks')
        return json(200, {
          keys: [
            { ...this.key.publicKey.export({ format: 'jwk' }), kid: this.key.kid, alg: 'RS256', use: 'sig' },
          ],
        });
      if (u.pathname === '/authorize') {
        const p = u.searchParams;
        if (
          p.get('client_id') !== CLIENT_ID ||
          p.get('response_type') !== 'code' ||
          p.get('code_challenge_method') !== 'S256'
        )
          return json(400, { error: 'invalid_request' });
        const code = randomBytes(16).toString('hex');
        this.codes.set(code, {
          challenge: p.get('code_challenge') ?? '',
          nonce: p.get('nonce') ?? '',
          redirectUri: p.get('redirect_uri') ?? '',
        });
        const back = new URL(p.get('redirect_uri') ?? '');
        back.searchParams.set('code', code);
        back.searchParams.set('state', p.get('state') ?? '');
        res.writeHead(302, { location: back.toString() });
        return res.end();
      }
      if (u.pathname === '/token' && req.method === 'POST') {
        let raw = '';
        req.on('data', (d: Buffer) => (raw += d.toString()));
        req.on('end', () => {
          const form = new URLSearchParams(raw);
          this.tokenRequests.push(form);
          const grant = this.codes.get(form.get('code') ?? '');
          this.codes.delete(form.get('code') ?? '');
          const verifier = form.get('code_verifier') ?? '';
          const s256 = createHash('sha256').update(verifier).digest('base64url');
          if (
            !grant ||
            form.get('client_id') !== CLIENT_ID ||
            form.get('client_secret') !== CLIENT_SECRET ||
            form.get('redirect_uri') !== grant.redirectUri ||
            s256 !== grant.challenge
          )
            return json(400, { error: 'invalid_grant' });
          const now = nowSeconds();
          const claims = {
            iss: this.url,
            aud: CLIENT_ID,
            iat: now,
            exp: now + 300,
            nonce: grant.nonce,
            ...this.user,
            ...this.tamper,
          };
          json(200, {
            token_type: 'Bearer',
            access_token: 'opaque-access-token',
            id_token: signAsym('RS256', this.key.privateKey, claims, { kid: this.key.kid }),
          });
        });
        return;
      }
      json(404, { error: 'not_found' });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    const addr = this.server.address();
    this.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    return this;
  }

  close(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/** Cookie header value from Set-Cookie lines. */
function cookiesOf(setCookie: string[] | string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
    const [pair] = line.split(';');
    const eq = pair.indexOf('=');
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

describe(`console OIDC sign-in: authorization code + PKCE (${SERVICES_LABEL})`, () => {
  let idp: FakeIdp;
  let testEnv: TestEnv;
  let booted: BootedApp;
  let tenantId: string;

  /** login → IdP → callback, as a browser would follow it; returns the callback's answer. */
  const flow = async (opts: { keepStateCookie?: boolean } = {}) => {
    const login = await request(booted.url).get('/console/oidc/login').expect(303);
    const authorize = new URL(login.headers.location);
    const stateCookie = cookiesOf(login.headers['set-cookie']).atp_console_oidc;
    const idpAnswer = await fetch(authorize, { redirect: 'manual' });
    const callback = new URL(idpAnswer.headers.get('location') ?? '');
    const res = await request(booted.url)
      .get(callback.pathname + callback.search)
      .set('cookie', opts.keepStateCookie === false ? '' : `atp_console_oidc=${stateCookie}`);
    return { login, authorize, callback, res };
  };

  beforeAll(async () => {
    idp = await new FakeIdp().start();
    testEnv = await createTestEnv({
      OIDC_ISSUER_URL: idp.url,
      OIDC_CLIENT_ID: CLIENT_ID,
      OIDC_CLIENT_SECRET: CLIENT_SECRET,
    });
    booted = await bootApp('router', AppModule, testEnv.env);
    tenantId = readDevCredentials(booted).tenant_id;
    idp.user = { sub: 'alice@example.com', tenant_id: tenantId, scope: 'openid admin' };
  });
  beforeEach(() => {
    idp.tamper = {};
  });
  afterAll(async () => {
    await booted?.close();
    await idp?.close();
    await testEnv?.cleanup();
  });

  it('redirects with PKCE S256, state and nonce; the callback opens a console session for the ID token', async () => {
    const config = await request(booted.url).get('/console/api/config').expect(200);
    expect(config.body).toEqual({ oidc: true });
    const { login, authorize, res } = await flow();
    expect(authorize.origin).toBe(idp.url);
    const p = authorize.searchParams;
    expect(p.get('code_challenge_method')).toBe('S256');
    expect(p.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(p.get('state')).toMatch(/^[\w-]{43}$/);
    expect(p.get('nonce')).toMatch(/^[\w-]{32}$/);
    expect(p.get('redirect_uri')).toBe(`${booted.url}/console/oidc/callback`);
    expect(String(login.headers['set-cookie'])).toMatch(
      /atp_console_oidc=[\w-]+; Path=\/console\/oidc; HttpOnly; SameSite=Lax/,
    );
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/console#/overview');
    const cookies = cookiesOf(res.headers['set-cookie']);
    expect(cookies.atp_console).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(cookies.atp_console_oidc).toBe('');
    expect(String(res.headers['set-cookie'])).toContain('HttpOnly; SameSite=Strict');
    // The verifier went to the token endpoint (the IdP checked it against the challenge), with the secret.
    const sent = idp.tokenRequests[idp.tokenRequests.length - 1];
    expect(sent.get('code_verifier')).toMatch(/^[\w-]{64}$/);
    const session = await request(booted.url)
      .get('/console/api/session')
      .set('cookie', `atp_console=${cookies.atp_console}`);
    expect(session.status).toBe(200);
    expect(session.body).toEqual(
      expect.objectContaining({ tenant_id: tenantId, subject: 'alice@example.com', scopes: ['admin'] }),
    );
    // Neither the client secret nor a token reaches a log line.
    const logs = booted.logs.join('\n');
    expect(logs).not.toContain(CLIENT_SECRET);
    expect(logs).not.toContain(cookies.atp_console);
  });

  it('refuses a callback without the browser-bound state, a replayed code, a wrong nonce, a user without admin', async () => {
    const noCookie = await flow({ keepStateCookie: false });
    expect(noCookie.res.headers.location).toBe('/console#/signin?error=oidc_state_mismatch');
    expect(cookiesOf(noCookie.res.headers['set-cookie']).atp_console).toBeUndefined();

    const first = await flow();
    expect(first.res.headers.location).toBe('/console#/overview');
    const replay = await request(booted.url)
      .get(first.callback.pathname + first.callback.search)
      .set('cookie', `atp_console_oidc=${first.callback.searchParams.get('state')}`);
    expect(replay.headers.location).toBe('/console#/signin?error=oidc_state_expired');

    idp.tamper = { nonce: 'not-the-one-we-sent' };
    const nonce = await flow();
    expect(nonce.res.headers.location).toBe('/console#/signin?error=oidc_nonce_mismatch');
    expect(cookiesOf(nonce.res.headers['set-cookie']).atp_console).toBeUndefined();

    idp.tamper = { scope: 'openid llm' };
    const noAdmin = await flow();
    expect(noAdmin.res.headers.location).toBe('/console#/signin?error=console_forbidden');

    idp.tamper = { aud: 'some-other-client' };
    const aud = await flow();
    expect(aud.res.headers.location).toBe('/console#/signin?error=invalid_token');
  });

  it('signs in through the real browser flow (IdP on another site: localhost vs 127.0.0.1)', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    ensureConsoleBuilt();
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    // The console as http://localhost:…, the IdP as http://127.0.0.1:…: two sites, as in production.
    const consoleUrl = booted.url.replace('127.0.0.1', 'localhost');
    try {
      const page = await browser.newPage();
      await page.goto(`${consoleUrl}/console`);
      await page.getByRole('link', { name: /company account/ }).click();
      await page.locator('[data-kpi="requests"]').waitFor();
      await page.locator('header').getByText('alice@example.com').waitFor();
      idp.tamper = { scope: 'openid llm' };
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('link', { name: /company account/ }).click();
      await page.getByRole('alert').filter({ hasText: 'neither the admin nor the platform:admin' }).waitFor();
      expect(page.url()).toBe(`${consoleUrl}/console`);
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('without OIDC_ISSUER_URL the console offers no OIDC and the login route says so', async () => {
    const env = await createTestEnv({});
    const plain = await bootApp('router', AppModule, env.env);
    try {
      await request(plain.url).get('/console/api/config').expect(200, { oidc: false });
      const res = await request(plain.url).get('/console/oidc/login').expect(303);
      expect(res.headers.location).toBe('/console#/signin?error=oidc_not_configured');
    } finally {
      await plain.close();
      await env.cleanup();
    }
  });
});
