import Redis from 'ioredis';
import { DataSource } from 'typeorm';
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
import { MemoryCache } from '../src/memories/memory.cache';
import { MemoryCodec } from '../src/memories/memory.codec';
import {
  auditEvents,
  client,
  type Client,
  createTenant,
  dumpDatabase,
  dumpRedis,
  sqliteFilesText,
  type TestTenant,
} from './memory-helpers';

const CANARY = 'zqxcanary7781value';
const CANARY_EMAIL = 'canary.person.4817@example.org';

describe(`memory security on ${SERVICES_LABEL}`, () => {
  let testEnv: TestEnv;
  let gateway: BootedApp;
  let ds: DataSource;
  let a: TestTenant;
  let b: TestTenant;
  let apiA: Client;
  let apiB: Client;

  beforeAll(async () => {
    testEnv = await createTestEnv();
    gateway = await bootApp('memory-gateway', AppModule, testEnv.env);
    ds = gateway.app.get(DataSource);
    a = await createTenant(gateway, 'tenant a');
    b = await createTenant(gateway, 'tenant b');
    apiA = client(gateway, a.key);
    apiB = client(gateway, b.key);
  });
  afterAll(async () => {
    await gateway?.close();
    await testEnv?.cleanup();
  });

  describe('no plaintext at rest', () => {
    beforeAll(async () => {
      // Default mode (redact), PII off (stored encrypted as is), and hash: every path to storage.
      await apiA.put('/v1/admin/memory-namespaces/raw', { pii_mode: 'off' }).expect(200);
      await apiA.put('/v1/admin/memory-namespaces/hashed', { pii_mode: 'hash' }).expect(200);
      for (const ns of ['plain', 'raw', 'hashed']) {
        await apiA
          .put(`/v1/memory/${ns}/canary`, {
            value: { note: `the ${CANARY} lives here`, contact: CANARY_EMAIL, words: [CANARY] },
            tags: [CANARY, `tag-${CANARY_EMAIL}`],
            metadata: { about: CANARY, who: CANARY_EMAIL },
          })
          .expect(201);
        // Read it (fills the cache), list and search it (the index is used).
        await apiA.get(`/v1/memory/${ns}/canary`).expect(200);
        await apiA.get(`/v1/memory/${ns}?tag=${CANARY}`).expect(200);
      }
    });

    it('the API gives the values back (the canaries were stored)', async () => {
      const raw = await apiA.get('/v1/memory/raw/canary').expect(200);
      expect(raw.body.value).toEqual({
        note: `the ${CANARY} lives here`,
        contact: CANARY_EMAIL,
        words: [CANARY],
      });
      expect(raw.body.metadata).toEqual({ about: CANARY, who: CANARY_EMAIL });
      expect(raw.body.tags).toEqual([CANARY, `tag-${CANARY_EMAIL}`]);
      const search = await apiA.post('/v1/memory/raw/search', { query: CANARY }).expect(200);
      expect(search.body.results.map((r: { key: string }) => r.key)).toEqual(['canary']);
      const tagged = await apiA.get(`/v1/memory/raw?tag=${CANARY}`).expect(200);
      expect(tagged.body.items.map((i: { key: string }) => i.key)).toEqual(['canary']);
      const redacted = await apiA.get('/v1/memory/plain/canary').expect(200);
      expect(JSON.stringify(redacted.body)).not.toContain(CANARY_EMAIL);
      expect(JSON.stringify(redacted.body)).toContain(CANARY);
    });

    it('no table of the database holds a canary (rows read as text)', async () => {
      await apiA.get('/v1/audit/verify').expect(200);
      const dump = await dumpDatabase(ds);
      expect(dump.tables.memory_records).toBeGreaterThanOrEqual(3);
      expect(dump.tables.memory_tokens).toBeGreaterThan(0);
      expect(dump.tables.memory_tags).toBeGreaterThan(0);
      expect(dump.tables.audit_events).toBeGreaterThan(0);
      expect(dump.text).toContain('hashed/canary');
      for (const canary of [CANARY, CANARY_EMAIL, 'canary.person', 'lives here']) {
        expect(dump.text.toLowerCase()).not.toContain(canary.toLowerCase());
      }
    });

    it('nor do the SQLite files, byte for byte', () => {
      if (!ds.options.type.includes('sqlite')) return expect(ds.options.type).toBe('postgres');
      const bytes = sqliteFilesText(testEnv.dataDir);
      expect(bytes).toContain('memory_records');
      expect(bytes).not.toContain(CANARY);
      expect(bytes).not.toContain(CANARY_EMAIL);
    });

    it('nor does Redis (every key under the test prefix, SCANned)', async () => {
      if (!usingRedis) return expect(testEnv.env.REDIS_URL).toBeUndefined();
      const redis = await dumpRedis(testEnv.env.REDIS_URL!, testEnv.env.REDIS_KEY_PREFIX!);
      expect(redis.keys.filter((k) => k.includes('mem:r:')).length).toBeGreaterThanOrEqual(3);
      expect(redis.text).not.toContain(CANARY);
      expect(redis.text).not.toContain(CANARY_EMAIL);
    });

    it('nor do the logs', () => {
      const logs = gateway.logs.join('\n');
      expect(logs.length).toBeGreaterThan(0);
      expect(logs).not.toContain(CANARY);
      expect(logs).not.toContain(CANARY_EMAIL);
    });
  });

  /** Removes cached copies (Redis) so that the next GET reads the (tampered) row. */
  const dropCached = async (tenantId: string, paths: string[]) => {
    if (!usingRedis) return;
    const redis = new Redis(testEnv.env.REDIS_URL!);
    try {
      for (const path of paths) await redis.del(`${testEnv.env.REDIS_KEY_PREFIX}mem:r:${tenantId}/${path}`);
    } finally {
      redis.disconnect();
    }
  };

  it('a ciphertext copied onto another row fails to decrypt (500 ciphertext_invalid)', async () => {
    await apiA.put('/v1/memory/swap/one', { value: 'first value' }).expect(201);
    await apiA.put('/v1/memory/swap/two', { value: 'second value' }).expect(201);
    await apiA.put('/v1/memory/swap2/one', { value: 'third value' }).expect(201);
    const [one] = (await ds.query(
      `SELECT value_ciphertext FROM memory_records WHERE tenant_id = ${ds.options.type === 'postgres' ? '$1' : '?'} AND namespace = 'swap' AND "key" = 'one'`,
      [a.tenantId],
    )) as { value_ciphertext: Buffer }[];
    const copyTo = async (ns: string, key: string, tenantId: string) => {
      const p = ds.options.type === 'postgres' ? ['$1', '$2', '$3', '$4'] : ['?', '?', '?', '?'];
      await ds.query(
        `UPDATE memory_records SET value_ciphertext = ${p[0]} WHERE tenant_id = ${p[1]} AND namespace = ${p[2]} AND "key" = ${p[3]}`,
        [one!.value_ciphertext, tenantId, ns, key],
      );
    };
    await copyTo('swap', 'two', a.tenantId);
    await copyTo('swap2', 'one', a.tenantId);
    await dropCached(a.tenantId, ['swap/two', 'swap2/one']);
    for (const path of ['/v1/memory/swap/two', '/v1/memory/swap2/one']) {
      const res = await apiA.get(path);
      expectError(res, 500, 'ciphertext_invalid');
      expect(res.body.error.message).toMatch(/does not belong to this tenant\/namespace\/key or was altered/);
    }
    // Across tenants too: B's record with A's ciphertext.
    await apiB.put('/v1/memory/swap/one', { value: 'b value' }).expect(201);
    await copyTo('swap', 'one', b.tenantId);
    await dropCached(b.tenantId, ['swap/one']);
    expectError(await apiB.get('/v1/memory/swap/one'), 500, 'ciphertext_invalid');
    await apiA.get('/v1/memory/swap/one').expect(200);
  });

  it(`a GET of a hot key is served ${usingRedis ? 'from the Redis cache, without' : 'by the embedded database (no record cache without Redis)'} the database`, async () => {
    await apiA.put('/v1/memory/hot/k', { value: 'hot value' }).expect(201);
    await apiA.get('/v1/memory/hot/k').expect(200);
    // Delete the row behind the gateway's back: only a cache hit can still answer.
    const p = ds.options.type === 'postgres' ? '$1' : '?';
    await ds.query(`DELETE FROM memory_records WHERE tenant_id = ${p} AND namespace = 'hot'`, [a.tenantId]);
    const res = await apiA.get('/v1/memory/hot/k');
    if (!usingRedis) {
      expectError(res, 404, 'memory_not_found');
      return;
    }
    expect(res.status).toBe(200);
    expect(res.body.value).toBe('hot value');
    // A write replaces the cached copy at once (write-through), a delete tombstones it.
    await apiA.put('/v1/memory/hot/k', { value: 'new value' }).expect(201);
    await ds.query(`DELETE FROM memory_records WHERE tenant_id = ${p} AND namespace = 'hot'`, [a.tenantId]);
    expect((await apiA.get('/v1/memory/hot/k').expect(200)).body.value).toBe('new value');
    await apiA.put('/v1/memory/hot/k', { value: 'third value' }).expect(201);
    await apiA.del('/v1/memory/hot/k').expect(204);
    await apiA.get('/v1/memory/hot/k').expect(404);
  });

  it('a cached ciphertext copied onto another key fails to decrypt too', async () => {
    if (!usingRedis) return expect(gateway.app.get(MemoryCache).enabled).toBe(false);
    await apiA.put('/v1/memory/cswap/one', { value: 'one' }).expect(201);
    await apiA.put('/v1/memory/cswap/two', { value: 'two' }).expect(201);
    const redis = new Redis(testEnv.env.REDIS_URL!);
    try {
      const prefix = `${testEnv.env.REDIS_KEY_PREFIX}mem:r:${a.tenantId}/cswap/`;
      const one = await redis.get(`${prefix}one`);
      expect(one).toMatch(/^\d+\|\{/);
      await redis.set(`${prefix}two`, one!);
    } finally {
      redis.disconnect();
    }
    expectError(await apiA.get('/v1/memory/cswap/two'), 500, 'ciphertext_invalid');
  });

  it('a reader that read before a write cannot put the old record back into the cache', async () => {
    if (!usingRedis) return expect(gateway.app.get(MemoryCache).enabled).toBe(false);
    const cache = gateway.app.get(MemoryCache);
    await apiA.put('/v1/memory/race/k', { value: 'v1' }).expect(201);
    const p = ds.options.type === 'postgres' ? ['$1', '$2'] : ['?', '?'];
    const loadRow = async () =>
      (
        (await ds.query(
          `SELECT * FROM memory_records WHERE tenant_id = ${p[0]} AND namespace = 'race' AND "key" = ${p[1]}`,
          [a.tenantId, 'k'],
        )) as Record<string, unknown>[]
      )[0]!;
    const stale = await loadRow();
    await apiA.put('/v1/memory/race/k', { value: 'v2' }).expect(200);
    // The slow reader fills the cache with what it read (version 1) after the write committed.
    await cache.put(
      {
        tenantId: a.tenantId,
        namespace: 'race',
        key: 'k',
        version: Number(stale.version),
        valueCiphertext: Buffer.from(stale.value_ciphertext as Buffer),
        attrsCiphertext: null,
        sizeBytes: Number(stale.size_bytes),
        createdAt: Number(stale.created_at),
        updatedAt: Number(stale.updated_at),
        expiresAt: null,
      },
      Date.now(),
    );
    expect((await apiA.get('/v1/memory/race/k').expect(200)).body).toMatchObject({ value: 'v2', version: 2 });
    // The same for a delete: a reader that loaded version 2 before it was deleted.
    const beforeDelete = await loadRow();
    await apiA.del('/v1/memory/race/k').expect(204);
    await cache.put(
      {
        tenantId: a.tenantId,
        namespace: 'race',
        key: 'k',
        version: Number(beforeDelete.version),
        valueCiphertext: Buffer.from(beforeDelete.value_ciphertext as Buffer),
        attrsCiphertext: null,
        sizeBytes: Number(beforeDelete.size_bytes),
        createdAt: Number(beforeDelete.created_at),
        updatedAt: Number(beforeDelete.updated_at),
        expiresAt: null,
      },
      Date.now(),
    );
    await apiA.get('/v1/memory/race/k').expect(404);
  });

  describe('tenant isolation (identical names in both tenants)', () => {
    beforeAll(async () => {
      await apiA.put('/v1/memory/shared/doc', { value: 'alpha private words', tags: ['t'] }).expect(201);
      await apiB.put('/v1/memory/shared/doc', { value: 'bravo private words', tags: ['t'] }).expect(201);
      await apiB.put('/v1/memory/shared/only-b', { value: 'bravo only' }).expect(201);
    });

    it('reads, lists and searches see only the own tenant', async () => {
      expect((await apiA.get('/v1/memory/shared/doc').expect(200)).body.value).toBe('alpha private words');
      expect((await apiB.get('/v1/memory/shared/doc').expect(200)).body.value).toBe('bravo private words');
      expectError(await apiA.get('/v1/memory/shared/only-b'), 404, 'memory_not_found');
      const list = await apiA.get('/v1/memory/shared').expect(200);
      expect(list.body.items.map((i: { key: string }) => i.key)).toEqual(['doc']);
      expect((await apiA.get('/v1/memory/shared?tag=t').expect(200)).body.items).toHaveLength(1);
      const search = await apiA.post('/v1/memory/shared/search', { query: 'bravo private' }).expect(200);
      expect(search.body.results.map((r: { key: string; value: string }) => [r.key, r.value])).toEqual([
        ['doc', 'alpha private words'],
      ]);
      expect(
        (await apiA.post('/v1/memory/shared/search', { query: 'only' }).expect(200)).body.results,
      ).toEqual([]);
    });

    it('no request field names another tenant', async () => {
      expectError(await apiA.get(`/v1/memory/shared?tenant_id=${b.tenantId}`), 400, 'invalid_request');
      const res = await apiA.get('/v1/memory/shared/doc', { 'x-tenant-id': b.tenantId }).expect(200);
      expect(res.body.value).toBe('alpha private words');
      expectError(await apiA.get(`/v1/memory/${b.tenantId}/doc`), 404, 'memory_not_found');
      expectError(
        await apiA.put(`/v1/memory/shared/doc`, { value: 1, tenant_id: b.tenantId }),
        400,
        'invalid_request',
      );
    });

    it('overwrites, deletes and erasure stay in the own tenant', async () => {
      const bVersion = (await apiB.get('/v1/memory/shared/doc').expect(200)).body.version as number;
      await apiA
        .put('/v1/memory/shared/doc', { value: 'alpha v2' }, { 'if-match': `"${bVersion}"` })
        .expect(200);
      await apiA.put('/v1/memory/shared/only-b', { value: 'alpha made this' }).expect(201);
      await apiA.del('/v1/memory/shared/only-b').expect(204);
      expect((await apiA.del('/v1/memory/shared').expect(200)).body).toEqual({ deleted: 1 });
      expect((await apiB.get('/v1/memory/shared/doc').expect(200)).body).toMatchObject({
        value: 'bravo private words',
        version: bVersion,
      });
      expect((await apiB.get('/v1/memory/shared/only-b').expect(200)).body.value).toBe('bravo only');
      const bEvents = await auditEvents(apiB);
      expect(bEvents.every((e) => e.tenant_id === b.tenantId)).toBe(true);
      expect(bEvents.some((e) => e.action === 'memory.delete')).toBe(false);
    });
  });

  it('a write sealed just before an erasure commits after it: sealed again under the new key, never unreadable', async () => {
    const d = await createTenant(gateway, 'tenant d');
    const apiD = client(gateway, d.key);
    await apiD.put('/v1/memory/race/old', { value: 'before the erasure' }).expect(201);
    const codec = gateway.app.get(MemoryCodec);
    const seal = codec.seal.bind(codec);
    const sealedKeys: string[] = [];
    // The erasure runs after the write's first seal and before its transaction.
    const spy = jest.spyOn(codec, 'seal').mockImplementation(async (at, content) => {
      const sealed = await seal(at, content);
      sealedKeys.push(sealed.dataKeyId);
      if (sealedKeys.length === 1) {
        expect((await apiD.del('/v1/admin/tenant-data').expect(200)).body).toEqual({
          deleted: 1,
          data_keys_destroyed: 1,
        });
      }
      return sealed;
    });
    try {
      await apiD.put('/v1/memory/race/new', { value: 'during the erasure' }).expect(201);
    } finally {
      spy.mockRestore();
    }
    expect(sealedKeys).toHaveLength(2);
    expect(sealedKeys[1]).not.toBe(sealedKeys[0]);
    const p = ds.options.type === 'postgres' ? '$1' : '?';
    const keys = (await ds.query(`SELECT data_key_id FROM memory_data_keys WHERE tenant_id = ${p}`, [
      d.tenantId,
    ])) as { data_key_id: string }[];
    expect(keys.map((k) => k.data_key_id)).toEqual([sealedKeys[1]]);
    // Another write under the new key, then every record reads back (none left under the old key).
    await apiD.put('/v1/memory/race/later', { value: 'after the erasure' }).expect(201);
    expect((await apiD.get('/v1/memory/race/new').expect(200)).body.value).toBe('during the erasure');
    expect((await apiD.get('/v1/memory/race/later').expect(200)).body.value).toBe('after the erasure');
    expectError(await apiD.get('/v1/memory/race/old'), 404, 'memory_not_found');
    expect(
      (await apiD.post('/v1/memory/race/search', { query: 'during' }).expect(200)).body.results.map(
        (r: { key: string }) => r.key,
      ),
    ).toEqual(['new']);
  });

  it('erasure destroys the data key and the rows; the chain still verifies; other tenants are untouched', async () => {
    const c = await createTenant(gateway, 'tenant c');
    const apiC = client(gateway, c.key);
    await apiC
      .put('/v1/memory/shared/doc', { value: 'charlie words', tags: ['x'], metadata: { m: 1 } })
      .expect(201);
    await apiC.put('/v1/memory/other/doc', { value: 'charlie more words', ttl_seconds: 3600 }).expect(201);
    await apiC.get('/v1/memory/shared/doc').expect(200);
    const p = ds.options.type === 'postgres' ? '$1' : '?';
    const keysBefore = (await ds.query(`SELECT wrapped FROM memory_data_keys WHERE tenant_id = ${p}`, [
      c.tenantId,
    ])) as {
      wrapped: Buffer;
    }[];
    expect(keysBefore).toHaveLength(1);

    const erased = await apiC.del('/v1/admin/tenant-data').expect(200);
    expect(erased.body).toEqual({ deleted: 2, data_keys_destroyed: 1 });

    for (const table of [
      'memory_records',
      'memory_tokens',
      'memory_tags',
      'memory_usage',
      'memory_data_keys',
    ]) {
      const rows = (await ds.query(`SELECT COUNT(*) AS n FROM ${table} WHERE tenant_id = ${p}`, [
        c.tenantId,
      ])) as {
        n: number | string;
      }[];
      expect({ table, n: Number(rows[0]!.n) }).toEqual({ table, n: 0 });
    }
    expectError(await apiC.get('/v1/memory/shared/doc'), 404, 'memory_not_found');
    expect((await apiC.get('/v1/memory/shared').expect(200)).body.items).toEqual([]);
    expect(
      (await apiC.post('/v1/memory/shared/search', { query: 'charlie' }).expect(200)).body.results,
    ).toEqual([]);
    const verify = await apiC.get('/v1/audit/verify').expect(200);
    expect(verify.body).toMatchObject({ ok: true, first_bad_seq: null });
    const events = await auditEvents(apiC);
    expect(events.find((e) => e.action === 'memory.erase')).toMatchObject({
      outcome: 'success',
      status_code: 200,
    });
    expect(verify.body.checked).toBe(events.length);

    // Other tenants keep their data and their chains.
    expect((await apiB.get('/v1/memory/shared/doc').expect(200)).body.value).toBe('bravo private words');
    expect((await apiB.get('/v1/audit/verify').expect(200)).body.ok).toBe(true);
    // The tenant may start over, under a new data key.
    await apiC.put('/v1/memory/shared/doc', { value: 'fresh start' }).expect(201);
    expect((await apiC.get('/v1/memory/shared/doc').expect(200)).body.value).toBe('fresh start');
    const keysAfter = (await ds.query(`SELECT wrapped FROM memory_data_keys WHERE tenant_id = ${p}`, [
      c.tenantId,
    ])) as {
      wrapped: Buffer;
    }[];
    expect(Buffer.from(keysAfter[0]!.wrapped).equals(Buffer.from(keysBefore[0]!.wrapped))).toBe(false);
  });
});
