import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { loadConfig, parseKeyRing } from '@app/config';
import { dataSourceOptions } from '@app/database';
import { type BootedApp, bootApp, createTestEnv, SERVICES_LABEL, type TestEnv } from '@app/testing';
import { expectError } from '../../../test/auth-helpers';
import { runCli } from '../../cli/src/cli';
import { AppModule } from '../src/app.module';
import { rotateKek } from '../src/crypto/rotate-kek';
import { client, createTenant, type TestTenant } from './memory-helpers';

const WORDS = ['apple', 'banana', 'cherry'];

describe(`KEK rotation on ${SERVICES_LABEL}`, () => {
  let testEnv: TestEnv;
  let gateway: BootedApp | undefined;
  const oldRing = () => testEnv.env.ENCRYPTION_KEY!;
  const newKey = `t2:${randomBytes(32).toString('base64')}`;
  const tenants: TestTenant[] = [];

  const boot = async (encryptionKey: string) => {
    await gateway?.close();
    gateway = await bootApp('memory-gateway', AppModule, { ...testEnv.env, ENCRYPTION_KEY: encryptionKey });
    return gateway;
  };
  const withDataSource = async <T>(fn: (ds: DataSource) => Promise<T>): Promise<T> => {
    const ds = await new DataSource(
      dataSourceOptions(loadConfig('memory-gateway', testEnv.env).database),
    ).initialize();
    try {
      return await fn(ds);
    } finally {
      await ds.destroy();
    }
  };
  const kekIds = () =>
    withDataSource(async (ds) =>
      ((await ds.query('SELECT kek_id FROM memory_data_keys ORDER BY kek_id')) as { kek_id: string }[]).map(
        (r) => r.kek_id,
      ),
    );

  beforeAll(async () => {
    testEnv = await createTestEnv();
    const app = await boot(oldRing());
    for (const name of ['rot a', 'rot b']) {
      const t = await createTenant(app, name);
      tenants.push(t);
      const api = client(app, t.key);
      for (let i = 0; i < 3; i++) {
        await api
          .put(`/v1/memory/ns/k${i}`, { value: `${name} value ${WORDS[i]}`, tags: ['x'], metadata: { i } })
          .expect(201);
      }
    }
    await gateway?.close();
    gateway = undefined;
  });
  afterAll(async () => {
    await gateway?.close();
    await testEnv?.cleanup();
  });

  it('without rotation, a ring lacking the old key cannot read (unknown_key_id)', async () => {
    const app = await boot(newKey);
    expectError(await client(app, tenants[0]!.key).get('/v1/memory/ns/k0'), 500, 'unknown_key_id');
    await gateway?.close();
    gateway = undefined;
  });

  it('`npm run atp -- keys rotate-kek` re-wraps every data key under the new primary; a second run changes nothing', async () => {
    expect(await kekIds()).toEqual(['t1', 't1']);
    const ring = parseKeyRing(`${newKey},${oldRing()}`);
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['keys', 'rotate-kek'], {
      env: { ...testEnv.env, ENCRYPTION_KEY: `${newKey},${oldRing()}` },
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
    });
    expect({ code, err: err.join('') }).toEqual({ code: 0, err: '' });
    expect(JSON.parse(out.join(''))).toEqual({
      primary_kek_id: 't2',
      checked: 2,
      rewrapped: 2,
      unchanged: 0,
      skipped: 0,
    });
    expect(await kekIds()).toEqual(['t2', 't2']);
    const second = await withDataSource((ds) => rotateKek(ds, ring));
    expect(second).toEqual({ checked: 2, rewrapped: 0, unchanged: 2, skipped: 0, primaryKekId: 't2' });
  });

  it('every old record still reads, searches and lists — with the new key alone', async () => {
    for (const ring of [`${newKey},${oldRing()}`, newKey]) {
      const app = await boot(ring);
      for (const [n, t] of tenants.entries()) {
        const api = client(app, t.key);
        const name = n === 0 ? 'rot a' : 'rot b';
        for (let i = 0; i < 3; i++) {
          const res = await api.get(`/v1/memory/ns/k${i}`).expect(200);
          expect(res.body).toMatchObject({
            value: `${name} value ${WORDS[i]}`,
            tags: ['x'],
            metadata: { i },
          });
        }
        const found = await api.post('/v1/memory/ns/search', { query: 'value cherry' }).expect(200);
        expect(found.body.results[0]).toMatchObject({ key: 'k2', score: 1 });
        expect((await api.get('/v1/memory/ns?tag=x').expect(200)).body.items).toHaveLength(3);
        await api
          .put('/v1/memory/ns/new', { value: 'written after rotation' })
          .expect((r) => expect([200, 201]).toContain(r.status));
      }
    }
  });

  it('a corrupt wrapped key stops the rotation with a clear error', async () => {
    await withDataSource(async (ds) => {
      const p = ds.options.type === 'postgres' ? '$1' : '?';
      const [row] = (await ds.query(`SELECT wrapped FROM memory_data_keys WHERE tenant_id = ${p}`, [
        tenants[0]!.tenantId,
      ])) as {
        wrapped: Buffer;
      }[];
      const bad = Buffer.from(row!.wrapped);
      bad[bad.length - 1]! ^= 1;
      await ds.query(
        `UPDATE memory_data_keys SET wrapped = ${p} WHERE tenant_id = ${ds.options.type === 'postgres' ? '$2' : '?'}`,
        [bad, tenants[0]!.tenantId],
      );
      await expect(rotateKek(ds, parseKeyRing(newKey))).rejects.toMatchObject({ code: 'ciphertext_invalid' });
    });
  });
});
