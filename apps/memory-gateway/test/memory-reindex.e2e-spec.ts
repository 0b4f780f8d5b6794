import { DataSource } from 'typeorm';
import { AuditService } from '@app/audit';
import { TenantCrypto } from '@app/crypto';
import { type BootedApp, bootApp, createTestEnv, SERVICES_LABEL, type TestEnv } from '@app/testing';
import { runCli } from '../../cli/src/cli';
import { AppModule } from '../src/app.module';
import { SqlRunner } from '@app/database';
import { MemoryCodec, searchableText } from '../src/memories/memory.codec';
import { MemoryReindexer } from '../src/memories/memory-reindex';
import { MemoryReindexRepository } from '../src/memories/memory-reindex.repository';
import { ACTOR, auditEvents, client, type Client, createTenant, type TestTenant } from './memory-helpers';

interface Hit {
  key: string;
  score: number;
}

/**
 * `npm run atp -- memory reindex` (issue 15's leftover): rows indexed before redaction placeholders
 * were left out still hold the word "email" in their index; the reindex rebuilds them from the
 * stored values, exactly as a PUT of the same value indexes it now.
 */
describe(`memory reindex on ${SERVICES_LABEL}`, () => {
  let testEnv: TestEnv;
  let gateway: BootedApp;
  let tenant: TestTenant;
  let api: Client;
  let ds: DataSource;
  const p = (n: number) => (ds.options.type === 'postgres' ? `$${n}` : '?');

  const search = async (namespace: string, query: string): Promise<Hit[]> => {
    const res = await api.post(`/v1/memory/${namespace}/search`, { query }).expect(200);
    return (res.body.results as Hit[]).map((r) => ({ key: r.key, score: r.score }));
  };
  const cli = async (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, {
      env: testEnv.env,
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
    });
    return { code, out: out.join(''), err: err.join('') };
  };
  const tokenRows = async (namespace: string, key: string): Promise<string[]> =>
    (
      (await ds.query(
        `SELECT token FROM memory_tokens WHERE tenant_id = ${p(1)} AND namespace = ${p(2)} AND "key" = ${p(3)}`,
        [tenant.tenantId, namespace, key],
      )) as { token: string }[]
    )
      .map((r) => r.token)
      .sort();
  const indexVersion = async (namespace: string, key: string): Promise<number> =>
    Number(
      (
        (await ds.query(
          `SELECT index_version FROM memory_records WHERE tenant_id = ${p(1)} AND namespace = ${p(2)} AND "key" = ${p(3)}`,
          [tenant.tenantId, namespace, key],
        )) as { index_version: number | string }[]
      )[0]!.index_version,
    );

  /** What the index held before the placeholder fix: every word of the stored text, `<EMAIL>` as "email". */
  const indexTheOldWay = async (namespace: string, key: string) => {
    const value = (await api.get(`/v1/memory/${namespace}/${key}`).expect(200)).body.value as unknown;
    const crypto = gateway.app.get(TenantCrypto);
    const tokens = await crypto.blindIndex(tenant.tenantId, searchableText(value));
    const at = [tenant.tenantId, namespace, key];
    await ds.query(
      `DELETE FROM memory_tokens WHERE tenant_id = ${p(1)} AND namespace = ${p(2)} AND "key" = ${p(3)}`,
      at,
    );
    for (const token of tokens) {
      await ds.query(
        `INSERT INTO memory_tokens (tenant_id, namespace, token, "key") VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})`,
        [tenant.tenantId, namespace, token, key],
      );
    }
    await ds.query(
      `UPDATE memory_records SET index_version = 0 WHERE tenant_id = ${p(1)} AND namespace = ${p(2)} AND "key" = ${p(3)}`,
      at,
    );
  };

  beforeAll(async () => {
    testEnv = await createTestEnv();
    gateway = await bootApp('memory-gateway', AppModule, testEnv.env);
    ds = gateway.app.get(DataSource);
    tenant = await createTenant(gateway, 'reindex tenant');
    api = client(gateway, tenant.key);
    await api
      .put('/v1/memory/notes/alice', { value: 'contact alice@example.com about the invoice', tags: ['crm'] })
      .expect(201);
    await api.put('/v1/memory/notes/current', { value: 'written by this version' }).expect(201);
    await api.put('/v1/admin/memory-namespaces/hashed', { pii_mode: 'hash' }).expect(200);
    await api.put('/v1/memory/hashed/alice', { value: 'contact alice@example.com today' }).expect(201);
    await api.put('/v1/memory/hashed/bob', { value: 'contact Bob@Other.org today' }).expect(201);
    for (const [namespace, key] of [
      ['notes', 'alice'],
      ['hashed', 'alice'],
      ['hashed', 'bob'],
    ]) {
      await indexTheOldWay(namespace!, key!);
    }
  });
  afterAll(async () => {
    await gateway?.close();
    await testEnv?.cleanup();
  });

  it('a row indexed the old way matches "EMAIL" until reindexed, then only what a PUT would index', async () => {
    expect(await indexVersion('notes', 'current')).toBe(1);
    expect(await search('notes', 'EMAIL')).toEqual([{ key: 'alice', score: 1 }]);
    expect(await search('hashed', 'EMAIL')).toEqual([
      { key: 'alice', score: 1 },
      { key: 'bob', score: 1 },
    ]);

    const run = await cli(['memory', 'reindex', '--tenant', tenant.tenantId]);
    expect(run).toEqual({
      code: 0,
      out: JSON.stringify({ tenants: 1, records: 3, reindexed: 3, skipped: 0, failed: 0 }) + '\n',
      err: '',
    });

    expect(await search('notes', 'EMAIL')).toEqual([]);
    expect(await search('hashed', 'EMAIL')).toEqual([]);
    expect(await search('notes', 'invoice')).toEqual([{ key: 'alice', score: 1 }]);
    const tagged = await api.post('/v1/memory/notes/search', { query: 'contact', tags: ['crm'] }).expect(200);
    expect(tagged.body.results.map((r: Hit) => r.key)).toEqual(['alice']);
    // The rebuilt rows are exactly a fresh PUT's, and marked current.
    const codec = gateway.app.get(MemoryCodec);
    const stored = (await api.get('/v1/memory/notes/alice').expect(200)).body.value as unknown;
    expect(await tokenRows('notes', 'alice')).toEqual(
      (await codec.searchTokens(tenant.tenantId, stored)).sort(),
    );
    expect(await indexVersion('notes', 'alice')).toBe(1);
  });

  it('mode hash still matches exactly: the same address finds its record, another address nothing', async () => {
    expect(await search('hashed', 'alice@example.com')).toEqual([{ key: 'alice', score: 1 }]);
    expect(await search('hashed', 'BOB@other.org')).toEqual([{ key: 'bob', score: 1 }]);
    expect(await search('hashed', 'carol@example.com')).toEqual([]);
  });

  it('a second run finds nothing to do (resumable: only rows behind are picked), and every run is audited', async () => {
    expect(JSON.parse((await cli(['memory', 'reindex', '--tenant', tenant.tenantId])).out)).toEqual({
      tenants: 1,
      records: 0,
      reindexed: 0,
      skipped: 0,
      failed: 0,
    });
    await indexTheOldWay('notes', 'alice');
    const all = await cli(['memory', 'reindex', '--all']);
    expect(JSON.parse(all.out)).toEqual({ tenants: 1, records: 1, reindexed: 1, skipped: 0, failed: 0 });
    expect(all.err).toBe(`tenant ${tenant.tenantId}: 1 of 1 records reindexed\n`);
    expect(await search('notes', 'EMAIL')).toEqual([]);

    const events = await auditEvents(api, '&action=memory.reindex');
    expect(events.map((e) => [e.action, e.outcome, e.resource_type, e.actor_type])).toEqual(
      Array.from({ length: 3 }, () => ['memory.reindex', 'success', 'memory_index', 'user']),
    );
    expect(String(events[0]!.actor_id)).toMatch(/^cli/);
    expect((await api.get('/v1/audit/verify').expect(200)).body).toMatchObject({
      ok: true,
      first_bad_seq: null,
    });
  });

  it('refuses a call without exactly one of --tenant and --all, or with a bad tenant id (exit 2)', async () => {
    for (const args of [[], ['--all', '--tenant', tenant.tenantId], ['--tenant', 'acme'], ['--everything']]) {
      const run = await cli(['memory', 'reindex', ...args]);
      expect({ code: run.code, out: run.out }).toEqual({ code: 2, out: '' });
      expect(run.err).toMatch(/^(memory reindex needs|--tenant must be|Unknown option)/);
    }
    expect((await cli(['memory', 'rebuild'])).code).toBe(2);
  });

  it('a record written while it is reindexed keeps its writer`s index (counted as skipped)', async () => {
    await indexTheOldWay('notes', 'alice');
    const codec = gateway.app.get(MemoryCodec);
    // The PUT lands after the reindexer read the record and before it writes the rebuilt index.
    const racing = Object.create(codec) as MemoryCodec;
    racing.searchTokens = async (tenantId, value) => {
      await api.put('/v1/memory/notes/alice', { value: 'rewritten meanwhile' }).expect(200);
      return codec.searchTokens(tenantId, value);
    };
    const reindexer = new MemoryReindexer(
      new MemoryReindexRepository(new SqlRunner(gateway.app.get(DataSource))),
      racing,
      gateway.app.get(AuditService),
    );
    expect(await reindexer.reindexTenant(tenant.tenantId, ACTOR)).toEqual({
      tenants: 1,
      records: 1,
      reindexed: 0,
      skipped: 1,
      failed: 0,
    });
    expect(await search('notes', 'meanwhile')).toEqual([{ key: 'alice', score: 1 }]);
    expect(await search('notes', 'invoice')).toEqual([]);
    expect(await indexVersion('notes', 'alice')).toBe(1);
  });

  it('a record that cannot be decrypted is left behind and reported: exit 1, audited as a failure', async () => {
    await indexTheOldWay('hashed', 'bob');
    // Another record's ciphertext: its authenticated data names another key.
    const [other] = (await ds.query(
      `SELECT value_ciphertext FROM memory_records WHERE tenant_id = ${p(1)} AND namespace = ${p(2)} AND "key" = ${p(3)}`,
      [tenant.tenantId, 'hashed', 'alice'],
    )) as { value_ciphertext: Buffer }[];
    await ds.query(
      `UPDATE memory_records SET value_ciphertext = ${p(1)} WHERE tenant_id = ${p(2)} AND namespace = ${p(3)} AND "key" = ${p(4)}`,
      [other!.value_ciphertext, tenant.tenantId, 'hashed', 'bob'],
    );
    const run = await cli(['memory', 'reindex', '--tenant', tenant.tenantId]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.out)).toEqual({ tenants: 1, records: 1, reindexed: 0, skipped: 0, failed: 1 });
    expect(run.err).toBe('failed: 1 record(s) could not be decrypted and keep their old index\n');
    expect(await indexVersion('hashed', 'bob')).toBe(0);
    const events = await auditEvents(api, '&action=memory.reindex');
    expect(events.filter((e) => e.outcome === 'failure')).toHaveLength(1);
  });

  it('pages through namespaces larger than a page, and leaves the index it rebuilds unchanged', async () => {
    for (let i = 0; i < 230; i += 10) {
      await Promise.all(
        Array.from({ length: 10 }, (_, j) =>
          api
            .put(`/v1/memory/bulk/r${String(i + j).padStart(3, '0')}`, { value: `bulk note ${i + j}` })
            .expect(201),
        ),
      );
    }
    const before = await tokenRows('bulk', 'r123');
    await ds.query(
      `UPDATE memory_records SET index_version = 0 WHERE tenant_id = ${p(1)} AND namespace IN (${p(2)}, ${p(3)})`,
      [tenant.tenantId, 'bulk', 'notes'],
    );
    const run = await cli(['memory', 'reindex', '--tenant', tenant.tenantId]);
    // hashed/bob still cannot be decrypted (the test before): it stays behind.
    expect(JSON.parse(run.out)).toEqual({ tenants: 1, records: 233, reindexed: 232, skipped: 0, failed: 1 });
    const behind = (await ds.query(
      `SELECT COUNT(*) AS n FROM memory_records WHERE tenant_id = ${p(1)} AND index_version < 1`,
      [tenant.tenantId],
    )) as { n: number | string }[];
    expect(Number(behind[0]!.n)).toBe(1);
    expect(await tokenRows('bulk', 'r123')).toEqual(before);
    expect(await search('bulk', '229')).toEqual([{ key: 'r229', score: 1 }]);
  });
});
