import request from 'supertest';
import { DataSource } from 'typeorm';
import { ApiKeyService, TenantService } from '@app/auth';
import { MIGRATIONS } from '@app/database';
import { bootApp, type BootedApp, createTestEnv, SERVICES_LABEL, type TestEnv } from '@app/testing';
import { readDevCredentials } from '../../../test/auth-helpers';
import { AppModule } from '../src/app.module';
import { ACTOR } from './governance-helpers';

interface Session {
  cookie: string;
  csrf: string;
  setCookie: string;
}

/**
 * The console's API and its session: cookie flags, CSRF, cross-site refusal, tenant isolation
 * (an `admin` of one tenant against another's data), and the overview's numbers against the
 * usage API and the raw rows. Runs on the embedded default and on PostgreSQL + Redis.
 */
describe(`console API (${SERVICES_LABEL})`, () => {
  let testEnv: TestEnv;
  let booted: BootedApp;
  let devKey: string;
  let devTenant: string;

  const signIn = async (apiKey: string, headers: Record<string, string> = {}): Promise<Session> => {
    const res = await request(booted.url).post('/console/api/session').set(headers).send({ api_key: apiKey });
    expect(res.status).toBe(200);
    const setCookie = String(res.headers['set-cookie']);
    return { cookie: setCookie.split(';')[0], csrf: res.body.csrf_token as string, setCookie };
  };
  const get = (s: Session, path: string) => request(booted.url).get(path).set('cookie', s.cookie);
  const chat = (key: string, content = 'hello') =>
    request(booted.url)
      .post('/v1/chat/completions')
      .set('authorization', `Bearer ${key}`)
      .send({ model: 'auto', messages: [{ role: 'user', content }] });

  /** A second tenant with an `admin`-only key (no platform:admin) and an `llm` key. */
  const otherTenant = async () => {
    const tenant = await booted.app
      .get(TenantService)
      .createTenant({ name: `other-${Date.now()}`, actor: ACTOR });
    const keys = booted.app.get(ApiKeyService);
    const admin = await keys.createKey({
      tenantId: tenant.id,
      name: 'b-admin',
      scopes: ['admin'],
      actor: ACTOR,
    });
    const llm = await keys.createKey({ tenantId: tenant.id, name: 'b-llm', scopes: ['llm'], actor: ACTOR });
    return { tenantId: tenant.id, adminKey: admin.key, llmKey: llm.key, llmKeyId: llm.record.id };
  };

  beforeAll(async () => {
    testEnv = await createTestEnv({});
    booted = await bootApp('router', AppModule, testEnv.env);
    ({ api_key: devKey, tenant_id: devTenant } = readDevCredentials(booted));
  });
  afterAll(async () => {
    await booted?.close();
    await testEnv?.cleanup();
  });

  it('sign-in sets an HttpOnly SameSite=Strict cookie scoped to /console (Secure over https) and never echoes the key', async () => {
    const res = await request(booted.url).post('/console/api/session').send({ api_key: devKey }).expect(200);
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/^atp_console=[\w-]+\.[\w-]+\.[\w-]+; /);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/console');
    expect(cookie).toMatch(/Max-Age=3600/);
    expect(cookie).not.toContain('Secure');
    expect(JSON.stringify(res.body)).not.toContain(devKey);
    expect(res.body).toEqual(
      expect.objectContaining({
        tenant_id: devTenant,
        tenant_name: 'default',
        csrf_token: expect.any(String),
      }),
    );
    const https = await signIn(devKey, { 'x-forwarded-proto': 'https' });
    expect(https.setCookie).toMatch(/; Secure$/);
    // The key never reaches a log line.
    expect(booted.logs.join('\n')).not.toContain(devKey);
  });

  it('refuses sign-in with a key that has neither admin nor platform:admin, and a bad key', async () => {
    const b = await otherTenant();
    const res = await request(booted.url).post('/console/api/session').send({ api_key: b.llmKey });
    expect({ status: res.status, code: res.body.error.code }).toEqual({
      status: 403,
      code: 'console_forbidden',
    });
    const bad = await request(booted.url).post('/console/api/session').send({ api_key: 'atp_nope' });
    expect(bad.status).toBe(401);
    const empty = await request(booted.url).post('/console/api/session').send({});
    expect({ status: empty.status, param: empty.body.error.param }).toEqual({
      status: 400,
      param: 'api_key',
    });
  });

  it('the cookie works on /console/api only; the console API takes no bearer header', async () => {
    const s = await signIn(devKey);
    await get(s, '/console/api/session').expect(200);
    const noCookie = await request(booted.url)
      .get('/console/api/keys')
      .set('authorization', `Bearer ${devKey}`);
    expect({ status: noCookie.status, code: noCookie.body.error.code }).toEqual({
      status: 401,
      code: 'console_session_missing',
    });
    // The /v1 API never reads the cookie (so a browser's cookie can never act there).
    const v1 = await request(booted.url).get('/v1/admin/api-keys').set('cookie', s.cookie);
    expect(v1.status).toBe(401);
  });

  it('mutating calls need the session CSRF token and a same-site origin', async () => {
    const s = await signIn(devKey);
    const body = { name: 'csrf-test', scopes: ['llm'] };
    const none = await request(booted.url).post('/console/api/keys').set('cookie', s.cookie).send(body);
    expect({ status: none.status, code: none.body.error.code }).toEqual({
      status: 403,
      code: 'csrf_token_invalid',
    });
    const other = await signIn(devKey);
    const wrong = await request(booted.url)
      .post('/console/api/keys')
      .set('cookie', s.cookie)
      .set('x-csrf-token', other.csrf)
      .send(body);
    expect(wrong.body.error.code).toBe('csrf_token_invalid');
    const crossSite = await request(booted.url)
      .post('/console/api/keys')
      .set('cookie', s.cookie)
      .set('x-csrf-token', s.csrf)
      .set('origin', 'https://evil.example')
      .send(body);
    expect({ status: crossSite.status, code: crossSite.body.error.code }).toEqual({
      status: 403,
      code: 'cross_site_request',
    });
    const fetchSite = await request(booted.url)
      .delete('/console/api/session')
      .set('cookie', s.cookie)
      .set('x-csrf-token', s.csrf)
      .set('sec-fetch-site', 'cross-site');
    expect(fetchSite.status).toBe(403);
    const crossLogin = await request(booted.url)
      .post('/console/api/session')
      .set('origin', 'https://evil.example')
      .send({ api_key: devKey });
    expect(crossLogin.status).toBe(403);
    const ok = await request(booted.url)
      .post('/console/api/keys')
      .set('cookie', s.cookie)
      .set('x-csrf-token', s.csrf)
      .set('origin', booted.url)
      .send(body);
    expect(ok.status).toBe(201);
    expect(ok.body.key).toMatch(/^atp_/);
    const keys = await get(s, '/console/api/keys').expect(200);
    expect(keys.body.data.map((k: { name: string }) => k.name)).toContain('csrf-test');
    expect(JSON.stringify(keys.body)).not.toContain(ok.body.key);
  });

  it("a tenant admin cannot read or change another tenant's data; a platform admin can switch", async () => {
    const b = await otherTenant();
    await chat(b.llmKey, 'tenant b').expect(200);
    const bAdmin = await signIn(b.adminKey);
    for (const path of ['overview', 'requests', 'keys', 'limits', 'audit', 'providers']) {
      const res = await get(bAdmin, `/console/api/${path}?tenant=${devTenant}`);
      expect({ path, status: res.status, code: res.body.error?.code }).toEqual({
        path,
        status: 403,
        code: 'tenant_forbidden',
      });
    }
    const devKeys = await request(booted.url)
      .get('/v1/admin/api-keys')
      .set('authorization', `Bearer ${devKey}`);
    const devKeyId = devKeys.body.data[0].id as string;
    const write = (method: 'delete' | 'put', path: string, body?: object) =>
      request(booted.url)
        [method](path)
        .set('cookie', bAdmin.cookie)
        .set('x-csrf-token', bAdmin.csrf)
        .send(body);
    expect((await write('delete', `/console/api/keys/${devKeyId}`)).status).toBe(404);
    expect((await write('put', `/console/api/keys/${devKeyId}/limits`, { rpm: 1 })).status).toBe(404);
    expect((await write('put', `/console/api/limits?tenant=${devTenant}`, { rpm: 1 })).status).toBe(403);
    // The dev tenant is untouched.
    await request(booted.url).get('/v1/admin/limits').set('authorization', `Bearer ${devKey}`).expect(200, {
      rpm: null,
      tpm: null,
      concurrency: null,
      monthly_budget_usd: null,
      allowed_models: null,
      pii_mode: null,
    });
    // B's own view holds only B's call.
    const own = await get(bAdmin, '/console/api/requests').expect(200);
    expect(own.body.data).toHaveLength(1);
    // The platform admin (dev key) opens tenant B and sees the same row.
    const dev = await signIn(devKey);
    const asPlatform = await get(dev, `/console/api/requests?tenant=${b.tenantId}`).expect(200);
    expect(asPlatform.body.data.map((r: { id: string }) => r.id)).toEqual(
      own.body.data.map((r: { id: string }) => r.id),
    );
    const session = await get(dev, '/console/api/session').expect(200);
    expect(session.body.tenants.map((t: { id: string }) => t.id)).toEqual(
      expect.arrayContaining([devTenant, b.tenantId]),
    );
    const unknown = await get(dev, '/console/api/overview?tenant=00000000-0000-4000-8000-000000000000');
    expect(unknown.status).toBe(404);
  });

  it('the overview matches /v1/usage and the raw usage rows; the Requests log pages by keyset', async () => {
    const calls = 7;
    for (let i = 0; i < calls; i++) await chat(devKey, `message ${i}`).expect(200);
    const s = await signIn(devKey);
    const overview = await get(s, '/console/api/overview').expect(200);
    const usage = await request(booted.url)
      .get('/v1/usage?group_by=model')
      .set('authorization', `Bearer ${devKey}`)
      .expect(200);
    expect(overview.body.totals.requests).toBe(usage.body.totals.requests);
    expect(overview.body.totals.total_tokens).toBe(usage.body.totals.total_tokens);
    expect(overview.body.totals.cost_usd).toBeCloseTo(usage.body.totals.cost_usd, 8);
    expect(overview.body.totals.requests).toBeGreaterThanOrEqual(calls);
    const ds = booted.app.get(DataSource);
    const pg = ds.options.type === 'postgres';
    const [raw] = await ds.query(
      `SELECT COUNT(*) AS n, SUM(total_tokens) AS t FROM usage_records WHERE tenant_id = ${pg ? '$1' : '?'}`,
      [devTenant],
    );
    expect(overview.body.totals.requests).toBe(Number(raw.n));
    expect(overview.body.totals.total_tokens).toBe(Number(raw.t));
    const byModel = overview.body.by_model.reduce((n: number, m: { requests: number }) => n + m.requests, 0);
    expect(byModel).toBe(Number(raw.n));
    const seriesSum = overview.body.series.reduce((n: number, b: { requests: number }) => n + b.requests, 0);
    expect(seriesSum).toBe(Number(raw.n));
    expect(overview.body.budget).toEqual(expect.objectContaining({ monthly_budget_usd: null }));

    // Three pages of 3 cover every row once, newest first.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: request.Response = await get(
        s,
        `/console/api/requests?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      ).expect(200);
      seen.push(...page.body.data.map((r: { id: string }) => r.id));
      for (const r of page.body.data)
        expect(Object.keys(r)).not.toEqual(expect.arrayContaining(['messages']));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(Number(raw.n));
    expect(new Set(seen).size).toBe(seen.length);
    const bad = await get(s, '/console/api/requests?status=teapot');
    expect({ status: bad.status, param: bad.body.error.param }).toEqual({ status: 400, param: 'status' });
  });

  it("edits a key's limits and allowed models, and the next calls of that key obey them", async () => {
    const s = await signIn(devKey);
    const write = (method: 'post' | 'put', path: string, body: object) =>
      request(booted.url)[method](path).set('cookie', s.cookie).set('x-csrf-token', s.csrf).send(body);
    const created = await write('post', '/console/api/keys', { name: 'limited', scopes: ['llm'] }).expect(
      201,
    );
    const chatAs = (model: string) =>
      request(booted.url)
        .post('/v1/chat/completions')
        .set('authorization', `Bearer ${created.body.key}`)
        .send({ model, messages: [{ role: 'user', content: 'hi' }] });
    await chatAs('auto').expect(200);
    const bad = await write('put', `/console/api/keys/${created.body.id}/limits`, { rpm: -1 });
    expect({ status: bad.status, param: bad.body.error.param }).toEqual({ status: 400, param: 'rpm' });
    expect(bad.body.error.message).toMatch(/rpm/);
    const ok = await write('put', `/console/api/keys/${created.body.id}/limits`, {
      allowed_models: ['fast'],
      rpm: 100,
    });
    expect(ok.status).toBe(200);
    expect(ok.body.limits).toEqual(
      expect.objectContaining({ allowed_models: ['fast'], rpm: 100, tpm: null }),
    );
    // The key's cached verification is dropped at once: the next call sees the allow-list.
    const refused = await chatAs('auto');
    expect(refused.status).toBe(403);
    await chatAs('fast').expect(200);
    const keys = await get(s, '/console/api/keys').expect(200);
    const listed = keys.body.data.find((k: { id: string }) => k.id === created.body.id);
    expect(listed.limits).toEqual(expect.objectContaining({ allowed_models: ['fast'], rpm: 100 }));
    // Clearing them lifts the allow-list.
    await write('put', `/console/api/keys/${created.body.id}/limits`, {}).expect(200, {
      id: created.body.id,
      limits: null,
    });
    await chatAs('auto').expect(200);
  });

  it('counts refusals (429) per bucket from the audit log, hourly and daily alike', async () => {
    const b = await otherTenant();
    const tenants = booted.app.get(TenantService);
    await tenants.replaceLimits(b.tenantId, { rpm: 1 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await chat(b.llmKey, `r${i}`)).status);
    const refused = statuses.filter((s) => s === 429).length;
    expect(refused).toBeGreaterThanOrEqual(2);
    const dev = await signIn(devKey);
    for (const granularity of ['hour', 'day']) {
      const o = await get(
        dev,
        `/console/api/overview?tenant=${b.tenantId}&granularity=${granularity}`,
      ).expect(200);
      expect(o.body.refusals).toEqual({ 403: 0, 422: 0, 429: refused, total: refused });
      const inSeries = o.body.series.reduce(
        (n: number, s: { refused: Record<string, number> }) => n + s.refused['429'],
        0,
      );
      expect(inSeries).toBe(refused);
      expect(o.body.totals.requests).toBe(statuses.length - refused);
    }
  });

  it('the console migration backfills the rollups from usage rows written before it', async () => {
    const ds = booted.app.get(DataSource);
    const consoleMigration = MIGRATIONS.find((m) => m.name === 'Console1764140500000')!;
    const qr = ds.createQueryRunner();
    const pg = ds.options.type === 'postgres';
    const sql = (text: string) => (pg ? text : text.replace(/\$\d+/g, '?'));
    const before = await ds.query(
      sql(
        'SELECT dim, value, SUM(requests) AS r, SUM(cost_usd) AS c FROM usage_rollups WHERE tenant_id = $1 GROUP BY dim, value ORDER BY dim, value',
      ),
      [devTenant],
    );
    try {
      await new consoleMigration().down(qr);
      await new consoleMigration().up(qr);
    } finally {
      await qr.release();
    }
    const after = await ds.query(
      sql(
        'SELECT dim, value, SUM(requests) AS r, SUM(cost_usd) AS c FROM usage_rollups WHERE tenant_id = $1 GROUP BY dim, value ORDER BY dim, value',
      ),
      [devTenant],
    );
    const norm = (rows: { dim: string; value: string; r: unknown; c: unknown }[]) =>
      rows.map((r) => ({ dim: r.dim, value: r.value, r: Number(r.r), c: Number(Number(r.c).toFixed(10)) }));
    expect(norm(after)).toEqual(norm(before));
    expect(norm(after).find((r) => r.dim === 'total')?.r).toBeGreaterThan(0);
    // The trigger is back: a new call still lands in the rollups.
    await chat(devKey, 'after backfill').expect(200);
    const s = await signIn(devKey);
    const o = await get(s, '/console/api/overview').expect(200);
    expect(o.body.totals.requests).toBe(norm(before).find((r) => r.dim === 'total')!.r + 1);
  });

  it('sign-out clears the cookie and ends the session for that token everywhere', async () => {
    const s = await signIn(devKey);
    const out = await request(booted.url)
      .delete('/console/api/session')
      .set('cookie', s.cookie)
      .set('x-csrf-token', s.csrf)
      .expect(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^atp_console=; .*Max-Age=0/);
    const again = await get(s, '/console/api/session');
    expect({ status: again.status, code: again.body.error.code }).toEqual({
      status: 401,
      code: 'console_session_ended',
    });
  });

  it('the page is served with a Content-Security-Policy without unsafe-inline, assets with long cache', async () => {
    const page = await request(booted.url).get('/console');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(page.headers['x-frame-options']).toBe('DENY');
    if (page.status === 200) {
      const script = /src="\/console\/assets\/([\w.-]+\.js)"/.exec(page.text);
      expect(script).not.toBeNull();
      const asset = await request(booted.url).get(`/console/assets/${script![1]}`).expect(200);
      expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(page.text).not.toMatch(/<script>(?!<\/script>)/);
    }
    await request(booted.url).get('/console/assets/..%2f..%2fpackage.json').expect(404);
  });
});
