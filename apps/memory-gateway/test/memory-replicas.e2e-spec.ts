import { DataSource } from 'typeorm';
import { TenantCrypto } from '@app/crypto';
import {
  type BootedApp,
  bootApp,
  createTestEnv,
  SERVICES_LABEL,
  type TestEnv,
  usingRedis,
} from '@app/testing';
import { expectError } from '../../../test/auth-helpers';
import { AppModule } from '../src/app.module';
import { client, createTenant, type TestTenant } from './memory-helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Two gateway replicas on one database (and one Redis, when configured). */
describe(`memory gateway, two replicas on ${SERVICES_LABEL}`, () => {
  let testEnv: TestEnv;
  let one: BootedApp;
  let two: BootedApp;
  let tenant: TestTenant;

  beforeAll(async () => {
    testEnv = await createTestEnv();
    one = await bootApp('memory-gateway', AppModule, testEnv.env);
    two = await bootApp('memory-gateway', AppModule, testEnv.env);
    tenant = await createTenant(one, 'replicated tenant');
  });
  afterAll(async () => {
    await two?.close();
    await one?.close();
    await testEnv?.cleanup();
  });

  it('a write on one replica is what the other reads next (no stale cache)', async () => {
    const a = client(one, tenant.key);
    const b = client(two, tenant.key);
    await a.put('/v1/memory/r/k', { value: 'first' }).expect(201);
    expect((await b.get('/v1/memory/r/k').expect(200)).body.value).toBe('first');
    await a.put('/v1/memory/r/k', { value: 'second' }).expect(200);
    expect((await b.get('/v1/memory/r/k').expect(200)).body.value).toBe('second');
    await b.put('/v1/memory/r/k', { value: 'third' }, { 'if-match': '"2"' }).expect(200);
    expectError(
      await a.put('/v1/memory/r/k', { value: 'late' }, { 'if-match': '"2"' }),
      412,
      'version_mismatch',
    );
    await a.del('/v1/memory/r/k').expect(204);
    await b.get('/v1/memory/r/k').expect(404);
  });

  it('an erasure on one replica is effective on the other at once', async () => {
    const a = client(one, tenant.key);
    const b = client(two, tenant.key);
    await a.put('/v1/memory/r/secret', { value: 'erase me' }).expect(201);
    expect((await b.get('/v1/memory/r/secret').expect(200)).body.value).toBe('erase me');
    const ds = one.app.get(DataSource);
    const p = ds.options.type === 'postgres' ? '$1' : '?';
    const [row] = (await ds.query(
      `SELECT value_ciphertext FROM memory_records WHERE tenant_id = ${p} AND "key" = 'secret'`,
      [tenant.tenantId],
    )) as { value_ciphertext: Buffer }[];
    const ctx = { tenantId: tenant.tenantId, namespace: 'r', key: 'secret' };
    await expect(two.app.get(TenantCrypto).decrypt(ctx, Buffer.from(row!.value_ciphertext))).resolves.toEqual(
      Buffer.from(JSON.stringify('erase me')),
    );

    await a.del('/v1/admin/tenant-data').expect(200);
    expectError(await b.get('/v1/memory/r/secret'), 404, 'memory_not_found');
    expect((await b.post('/v1/memory/r/search', { query: 'erase' }).expect(200)).body.results).toEqual([]);
    if (usingRedis) {
      // The erasure was announced: replica two dropped its cached data key, so even a copy of
      // the ciphertext taken before the erasure no longer opens there.
      await sleep(200);
      await expect(
        two.app.get(TenantCrypto).decrypt(ctx, Buffer.from(row!.value_ciphertext)),
      ).rejects.toMatchObject({ code: 'data_key_destroyed' });
    }
  });
});
