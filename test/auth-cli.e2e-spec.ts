import { existsSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { API_KEY_CACHE_TTL_MS } from '@app/auth';
import {
  type BootedApp,
  bootApp,
  createTestEnv,
  REPO_ROOT,
  SERVICES_LABEL,
  startProcess,
  type TestEnv,
  usingRedis,
} from '@app/testing';
import { runCli } from '../apps/cli/src/cli';
import { AppModule } from '../apps/router/src/app.module';
import { expectError, waitFor } from './auth-helpers';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

describe(`the atp CLI mints credentials that work on ${SERVICES_LABEL}`, () => {
  let testEnv: TestEnv;
  let router: BootedApp;
  const outputs: string[] = [];

  async function cli(...argv: string[]): Promise<CliResult> {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, {
      env: testEnv.env,
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
    });
    outputs.push(stdout, stderr);
    return { code, stdout, stderr };
  }
  const keys = (credential: string) =>
    request(router.url).get('/v1/admin/api-keys').set('authorization', `Bearer ${credential}`);

  beforeAll(async () => {
    testEnv = await createTestEnv({ JWT_ISSUER: 'atp-cli-test', JWT_AUDIENCE: 'atp' });
    router = await bootApp('router', AppModule, testEnv.env);
  });
  afterAll(async () => {
    await router?.close();
    await testEnv?.cleanup();
  });

  let tenantId: string;

  it('tenants create <name> prints the tenant as JSON', async () => {
    const res = await cli('tenants', 'create', 'acme');
    expect(res.code).toBe(0);
    const tenant = JSON.parse(res.stdout);
    expect(Object.keys(tenant).sort()).toEqual(['created_at', 'id', 'name']);
    expect(tenant.name).toBe('acme');
    tenantId = tenant.id;
    const again = await cli('tenants', 'create', 'acme');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
  });

  it('keys create prints the key once; the key authenticates a real request to its tenant only', async () => {
    const res = await cli('keys', 'create', '--tenant', tenantId, '--scopes', 'llm,admin', '--name', 'ci');
    expect(res.code).toBe(0);
    const created = JSON.parse(res.stdout);
    expect(created).toMatchObject({
      tenant_id: tenantId,
      name: 'ci',
      scopes: ['llm', 'admin'],
      expires_at: null,
    });
    expect(created.key).toMatch(/^atp_[0-9A-Za-z]{43}$/);
    expect(res.stderr).toMatch(/shown only this once/);
    const list = await keys(created.key).expect(200);
    expect(list.body.data.map((k: { id: string }) => k.id)).toEqual([created.id]);
    expect(JSON.stringify(list.body)).not.toContain(created.key);

    const listed = await cli('keys', 'list', '--tenant', tenantId);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).map((k: { id: string }) => k.id)).toEqual([created.id]);
    expect(listed.stdout).not.toContain(created.key);
  });

  it('keys create --expires-at makes a key that stops working', async () => {
    const res = await cli(
      'keys',
      'create',
      '--tenant',
      tenantId,
      '--scopes',
      'admin',
      '--expires-at',
      new Date(Date.now() + 1500).toISOString(),
    );
    expect(res.code).toBe(0);
    const { key, expires_at } = JSON.parse(res.stdout);
    expect(expires_at).not.toBeNull();
    await keys(key).expect(200);
    await new Promise((r) => setTimeout(r, 1700));
    expectError(await keys(key), 401, 'invalid_api_key');
  });

  it('keys revoke <id> stops the key on the running service (pub/sub with Redis, the cache TTL otherwise)', async () => {
    const created = JSON.parse(
      (await cli('keys', 'create', '--tenant', tenantId, '--scopes', 'admin')).stdout,
    );
    await keys(created.key).expect(200);
    const res = await cli('keys', 'revoke', created.id);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({ id: created.id, tenant_id: tenantId, revoked: true });
    const elapsed = await waitFor(
      async () => (await keys(created.key)).status === 401,
      API_KEY_CACHE_TTL_MS + 1000,
      50,
    );
    expect(elapsed).toBeLessThan(usingRedis ? 1500 : API_KEY_CACHE_TTL_MS + 500);
    expectError(await keys(created.key), 401, 'invalid_api_key');
    expect((await cli('keys', 'revoke', created.id)).code).toBe(1);
  });

  it('token signs an HS256 platform JWT (with JWT_ISSUER/JWT_AUDIENCE) that authenticates', async () => {
    const res = await cli(
      'token',
      '--tenant',
      tenantId,
      '--scopes',
      'admin',
      '--ttl',
      '15m',
      '--sub',
      'alice',
    );
    expect(res.code).toBe(0);
    const token = res.stdout.trim();
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(payload).toMatchObject({
      sub: 'alice',
      tenant_id: tenantId,
      scope: 'admin',
      iss: 'atp-cli-test',
      aud: 'atp',
    });
    expect(payload.exp - payload.iat).toBe(900);
    await keys(token).expect(200);
    const llmOnly = (await cli('token', '--tenant', tenantId, '--scopes', 'llm')).stdout.trim();
    expectError(await keys(llmOnly), 403, 'insufficient_scope');
  });

  it.each<[string[], number, RegExp]>([
    [['keys', 'create', '--tenant', 'nope', '--scopes', 'llm'], 2, /UUID/],
    [
      ['keys', 'create', '--tenant', '00000000-0000-4000-8000-000000000000', '--scopes', 'llm'],
      1,
      /No tenant/,
    ],
    [
      ['keys', 'create', '--tenant', '00000000-0000-4000-8000-000000000000', '--scopes', 'llm,root'],
      2,
      /unknown scope/,
    ],
    [['keys', 'create', '--tenant', '00000000-0000-4000-8000-000000000000'], 2, /--scopes/],
    [['keys', 'create', '--bogus'], 2, /bogus/],
    [
      ['token', '--tenant', '00000000-0000-4000-8000-000000000000', '--scopes', 'llm', '--ttl', 'forever'],
      2,
      /TTL/,
    ],
    [['keys', 'revoke'], 2, /key id/],
    [['frobnicate'], 2, /unknown command/],
  ])('bad usage %j → exit %i with a message', async (argv, code, message) => {
    const res = await cli(...argv);
    expect(res.code).toBe(code);
    expect(res.stderr).toMatch(message);
  });

  it('help prints the usage', async () => {
    const res = await cli('help');
    expect(res.code).toBe(0);
    for (const c of ['tenants create', 'keys create', 'keys revoke', 'token', 'migrate'])
      expect(res.stdout).toContain(c);
  });

  it('the built CLI (node dist/apps/cli/main.js, what `npm run atp` runs) creates a key that authenticates', async () => {
    const main = join(REPO_ROOT, 'dist', 'apps', 'cli', 'main.js');
    expect(existsSync(main)).toBe(true);
    const proc = startProcess(
      [main, 'keys', 'create', '--tenant', tenantId, '--scopes', 'admin', '--name', 'spawned'],
      testEnv.env,
    );
    const { code } = await proc.exited;
    expect({ code, stderr: proc.stderr.join('') }).toEqual({
      code: 0,
      stderr: expect.stringMatching(/shown only this once/),
    });
    const created = JSON.parse(proc.stdout.join(''));
    await keys(created.key).expect(200);
    outputs.push(created.key);
  }, 60_000);

  it("the service's logs hold none of the minted credentials", () => {
    const logs = router.logs.join('\n');
    const secrets = outputs.join('\n').match(/atp_[0-9A-Za-z]{43}|eyJ[\w-]+\.[\w-]+\.[\w-]+/g) ?? [];
    expect(secrets.length).toBeGreaterThan(3);
    for (const s of secrets) expect(logs).not.toContain(s);
    expect(logs).not.toContain(testEnv.env.JWT_SECRET_KEY);
  });
});
