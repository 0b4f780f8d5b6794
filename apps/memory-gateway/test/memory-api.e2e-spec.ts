import request from 'supertest';
import { DataSource } from 'typeorm';
import { ApiKeyService, TenantService } from '@app/auth';
import { type BootedApp, bootApp, createTestEnv, SERVICES_LABEL, type TestEnv } from '@app/testing';
import { expectError } from '../../../test/auth-helpers';
import { AppModule } from '../src/app.module';
import { MemorySettings } from '../src/memories/memory.settings';
import { MemorySweeper } from '../src/memories/memory-sweeper';
import {
  ACTOR,
  auditEvents,
  client,
  type Client,
  createKey,
  createTenant,
  type TestTenant,
} from './memory-helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`memory API on ${SERVICES_LABEL}`, () => {
  let testEnv: TestEnv;
  let gateway: BootedApp;
  let tenant: TestTenant;
  let api: Client;

  beforeAll(async () => {
    testEnv = await createTestEnv();
    gateway = await bootApp('memory-gateway', AppModule, testEnv.env);
    tenant = await createTenant(gateway, 'api tenant');
    api = client(gateway, tenant.key);
  });
  afterAll(async () => {
    await gateway?.close();
    await testEnv?.cleanup();
  });

  it('creates (201), reads with ETag, replaces (200) with the full contract shape', async () => {
    const created = await api
      .put('/v1/memory/notes/n1', {
        value: { text: 'hello world', n: 1 },
        tags: ['t1'],
        metadata: { source: 'x' },
      })
      .expect(201);
    expect(created.body).toEqual({
      namespace: 'notes',
      key: 'n1',
      version: 1,
      created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      updated_at: created.body.created_at,
      expires_at: null,
      size_bytes: expect.any(Number),
      pii: { action: 'none', entities: [] },
    });
    expect(created.body.size_bytes).toBeGreaterThan(0);
    expect(created.headers.etag).toBe('"1"');
    const read = await api.get('/v1/memory/notes/n1').expect(200);
    expect(read.body).toMatchObject({
      value: { text: 'hello world', n: 1 },
      tags: ['t1'],
      metadata: { source: 'x' },
      version: 1,
    });
    expect(read.headers.etag).toBe('"1"');
    const updated = await api.put('/v1/memory/notes/n1', { value: 'second' }).expect(200);
    expect(updated.body.version).toBe(2);
    expect(updated.body.created_at).toBe(created.body.created_at);
    const again = await api.get('/v1/memory/notes/n1').expect(200);
    expect(again.body).toMatchObject({ value: 'second', tags: [], metadata: null, version: 2 });
  });

  it('stores any JSON value: null, numbers, arrays, nested objects', async () => {
    for (const value of [null, 42, [1, 'two', { three: 3 }], { a: { b: { c: [true, false] } } }, '']) {
      await api.put('/v1/memory/json/v', { value }).expect((r) => expect([200, 201]).toContain(r.status));
      expect((await api.get('/v1/memory/json/v').expect(200)).body.value).toEqual(value);
    }
  });

  it('If-Match: the current version passes, a stale one is 412, * needs an existing record', async () => {
    await api.put('/v1/memory/occ/k', { value: 1 }).expect(201);
    await api.put('/v1/memory/occ/k', { value: 2 }, { 'if-match': '"1"' }).expect(200);
    expectError(
      await api.put('/v1/memory/occ/k', { value: 3 }, { 'if-match': '"1"' }),
      412,
      'version_mismatch',
    );
    await api.put('/v1/memory/occ/k', { value: 3 }, { 'if-match': '2' }).expect(200);
    expectError(
      await api.put('/v1/memory/occ/absent', { value: 1 }, { 'if-match': '*' }),
      412,
      'version_mismatch',
    );
    expectError(
      await api.put('/v1/memory/occ/k', { value: 1 }, { 'if-match': 'yesterday' }),
      400,
      'invalid_if_match',
    );
    expectError(await api.del('/v1/memory/occ/k', { 'if-match': '"1"' }), 412, 'version_mismatch');
    expect((await api.get('/v1/memory/occ/k').expect(200)).body.value).toBe(3);
    await api.del('/v1/memory/occ/k', { 'if-match': '"3"' }).expect(204);
  });

  it('concurrent writers with the same If-Match: exactly one wins', async () => {
    await api.put('/v1/memory/occ/race', { value: 0 }).expect(201);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        api.put('/v1/memory/occ/race', { value: i + 1 }, { 'if-match': '"1"' }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 412, 412, 412, 412, 412, 412, 412]);
    expect((await api.get('/v1/memory/occ/race').expect(200)).body.version).toBe(2);
  });

  it('validates names, bodies and queries with clear 400s', async () => {
    for (const [path, code] of [
      ['/v1/memory/notes/bad%20key', 'invalid_key'],
      ['/v1/memory/notes/a@b.c', 'invalid_key'],
      ['/v1/memory/bad$ns/k', 'invalid_namespace'],
      ['/v1/memory/notes/..', 'invalid_key'],
    ] as const) {
      const res = await api.put(path, { value: 1 });
      expect({ path, status: res.status, code: res.body.error?.code }).toEqual({ path, status: 400, code });
      expect(res.body.error.message).toMatch(/1-128 characters/);
    }
    // Names up to 128 characters are valid over HTTP too (Fastify's maxParamLength is raised).
    await api.put(`/v1/memory/${'n'.repeat(128)}/${'k'.repeat(128)}`, { value: 1 }).expect(201);
    expectError(await api.put(`/v1/memory/notes/${'k'.repeat(129)}`, { value: 1 }), 400, 'invalid_key');
    await api.put('/v1/memory/a.b_c:d-e/K.1_x:y-z', { value: 1 }).expect(201);
    expectError(await api.put('/v1/memory/notes/k', {}), 400, 'invalid_request');
    expectError(await api.put('/v1/memory/notes/k', { value: 1, extra: true }), 400, 'invalid_request');
    expectError(await api.put('/v1/memory/notes/k', { value: 1, ttl_seconds: 0 }), 400, 'invalid_request');
    expectError(await api.put('/v1/memory/notes/k', { value: 1, ttl_seconds: 1.5 }), 400, 'invalid_request');
    expectError(await api.put('/v1/memory/notes/k', { value: 1, tags: ['ok', ''] }), 400, 'invalid_request');
    expectError(await api.put('/v1/memory/notes/k', { value: 1, tags: 'x' }), 400, 'invalid_request');
    expectError(await api.put('/v1/memory/notes/k', { value: 1, metadata: [1] }), 400, 'invalid_request');
    expectError(await api.get('/v1/memory/notes?limit=0'), 400, 'invalid_limit');
    expectError(await api.get('/v1/memory/notes?cursor=nonsense!'), 400, 'invalid_cursor');
    expectError(await api.get('/v1/memory/notes?prefix=a%20b'), 400, 'invalid_prefix');
    expectError(await api.post('/v1/memory/notes/search', { query: '!' }), 400, 'invalid_query');
    expectError(
      await api.post('/v1/memory/notes/search', { query: 'x', limit: 101 }),
      400,
      'invalid_request',
    );
  });

  it('absurdly nested JSON is a 400, never a 500', async () => {
    for (const depth of [300, 5_000, 50_000]) {
      const value = `${'['.repeat(depth)}"x"${']'.repeat(depth)}`;
      for (const [path, body] of [
        ['/v1/memory/deep/k', `{"value":${value}}`],
        ['/v1/memory/deep/search', `{"query":"x","tags":${value}}`],
        ['/v1/pii/detect', `{"text":${value}}`],
      ] as const) {
        const req = path.endsWith('/k') ? request(gateway.url).put(path) : request(gateway.url).post(path);
        const res = await req
          .set('authorization', `Bearer ${tenant.key}`)
          .set('content-type', 'application/json')
          .send(body);
        expect({ depth, path, status: res.status }).toEqual({ depth, path, status: 400 });
        expect(['json_too_deep', 'value_too_deep']).toContain(res.body.error.code);
      }
    }
    expect(
      (await api.put('/v1/memory/deep/ok', { value: JSON.parse(`${'['.repeat(200)}1${']'.repeat(200)}`) }))
        .status,
    ).toBe(201);
  });

  it('a value over the size limit is 413; so is oversized metadata', async () => {
    const settings = gateway.app.get(MemorySettings);
    const big = 'x'.repeat(settings.maxValueBytes);
    expectError(await api.put('/v1/memory/big/v', { value: big }), 413, 'value_too_large');
    expectError(
      await api.put('/v1/memory/big/v', { value: 1, metadata: { m: 'y'.repeat(settings.maxMetadataBytes) } }),
      413,
      'metadata_too_large',
    );
    await api.get('/v1/memory/big/v').expect(404);
  });

  it('GET/DELETE of an absent record is 404; DELETE then GET is 404', async () => {
    expectError(await api.get('/v1/memory/notes/nothing'), 404, 'memory_not_found');
    expectError(await api.del('/v1/memory/notes/nothing'), 404, 'memory_not_found');
    await api.put('/v1/memory/notes/gone', { value: 'bye' }).expect(201);
    await api.del('/v1/memory/notes/gone').expect(204);
    await api.get('/v1/memory/notes/gone').expect(404);
  });

  it('lists by key with prefix, tag filter and cursor pagination, without values', async () => {
    for (let i = 0; i < 7; i++) {
      await api
        .put(`/v1/memory/listing/item-${i}`, { value: `v${i}`, tags: i % 2 ? ['odd'] : ['even'] })
        .expect(201);
    }
    await api.put('/v1/memory/listing/other', { value: 'o', tags: ['odd'] }).expect(201);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : '';
      const res = await api.get(`/v1/memory/listing?prefix=item-&limit=3${q}`).expect(200);
      for (const item of res.body.items) {
        expect(item).not.toHaveProperty('value');
        expect(Object.keys(item).sort()).toEqual(
          ['created_at', 'expires_at', 'key', 'namespace', 'size_bytes', 'updated_at', 'version'].sort(),
        );
        seen.push(item.key);
      }
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 7 }, (_, i) => `item-${i}`));
    const odd = await api.get('/v1/memory/listing?tag=odd').expect(200);
    expect(odd.body.items.map((i: { key: string }) => i.key)).toEqual([
      'item-1',
      'item-3',
      'item-5',
      'other',
    ]);
    const none = await api.get('/v1/memory/listing?tag=ODD').expect(200);
    expect(none.body).toEqual({ items: [], next_cursor: null });
  });

  it('search ranks records by matched words, filters by tags, never returns other namespaces', async () => {
    await api
      .put('/v1/memory/kb/a', { value: { text: 'The quick brown fox jumps' }, tags: ['animals'] })
      .expect(201);
    await api.put('/v1/memory/kb/b', { value: 'a quick brown dog', tags: ['animals', 'dogs'] }).expect(201);
    await api.put('/v1/memory/kb/c', { value: 'Café au lait, quickly' }).expect(201);
    await api.put('/v1/memory/kb-other/a', { value: 'quick brown fox' }).expect(201);
    const res = await api.post('/v1/memory/kb/search', { query: 'Quick BROWN fox' }).expect(200);
    expect(res.body.results.map((r: { key: string; score: number }) => [r.key, r.score])).toEqual([
      ['a', 1],
      ['b', 0.6667],
    ]);
    expect(res.body.results[0]).toMatchObject({
      value: { text: 'The quick brown fox jumps' },
      namespace: 'kb',
    });
    const cafe = await api.post('/v1/memory/kb/search', { query: 'cafe' }).expect(200);
    expect(cafe.body.results.map((r: { key: string }) => r.key)).toEqual(['c']);
    const tagged = await api.post('/v1/memory/kb/search', { query: 'quick', tags: ['dogs'] }).expect(200);
    expect(tagged.body.results.map((r: { key: string }) => r.key)).toEqual(['b']);
    const both = await api
      .post('/v1/memory/kb/search', { query: 'brown', tags: ['animals', 'dogs'] })
      .expect(200);
    expect(both.body.results.map((r: { key: string }) => r.key)).toEqual(['b']);
    const limited = await api.post('/v1/memory/kb/search', { query: 'quick brown', limit: 1 }).expect(200);
    expect(limited.body.results).toHaveLength(1);
    // Replacing a value replaces its index.
    await api.put('/v1/memory/kb/a', { value: 'nothing in common' }).expect(200);
    const after = await api.post('/v1/memory/kb/search', { query: 'fox' }).expect(200);
    expect(after.body.results).toEqual([]);
  });

  it('DELETE of a namespace deletes its records only', async () => {
    await api.put('/v1/memory/tmp/a', { value: 'x' }).expect(201);
    await api.put('/v1/memory/tmp/b', { value: 'searchable words' }).expect(201);
    await api.put('/v1/memory/tmp2/a', { value: 'x' }).expect(201);
    expect((await api.del('/v1/memory/tmp').expect(200)).body).toEqual({ deleted: 2 });
    await api.get('/v1/memory/tmp/a').expect(404);
    expect((await api.get('/v1/memory/tmp').expect(200)).body.items).toEqual([]);
    expect(
      (await api.post('/v1/memory/tmp/search', { query: 'searchable' }).expect(200)).body.results,
    ).toEqual([]);
    await api.get('/v1/memory/tmp2/a').expect(200);
    expect((await api.del('/v1/memory/tmp').expect(200)).body).toEqual({ deleted: 0 });
  });

  it('TTL: an expired record is never returned and the sweeper deletes it', async () => {
    const res = await api
      .put('/v1/memory/ttl/short', { value: 'ephemeral words', ttl_seconds: 1 })
      .expect(201);
    expect(Date.parse(res.body.expires_at) - Date.parse(res.body.created_at)).toBe(1000);
    await api.put('/v1/memory/ttl/long', { value: 'ephemeral words', ttl_seconds: 3600 }).expect(201);
    await api.get('/v1/memory/ttl/short').expect(200);
    await sleep(1100);
    expectError(await api.get('/v1/memory/ttl/short'), 404, 'memory_not_found');
    expect(
      (await api.get('/v1/memory/ttl').expect(200)).body.items.map((i: { key: string }) => i.key),
    ).toEqual(['long']);
    const found = await api.post('/v1/memory/ttl/search', { query: 'ephemeral' }).expect(200);
    expect(found.body.results.map((r: { key: string }) => r.key)).toEqual(['long']);
    const ds = gateway.app.get(DataSource);
    const p = ds.options.type === 'postgres' ? ['$1', '$2'] : ['?', '?'];
    const countRows = async (table: string) =>
      Number(
        (
          (await ds.query(
            `SELECT COUNT(*) AS n FROM ${table} WHERE tenant_id = ${p[0]} AND namespace = ${p[1]}`,
            [tenant.tenantId, 'ttl'],
          )) as { n: number | string }[]
        )[0]!.n,
      );
    const usage = async () =>
      (
        (await ds.query(`SELECT records FROM memory_usage WHERE tenant_id = ${p[0]}`, [tenant.tenantId])) as {
          records: number | string;
        }[]
      )[0]!.records;
    expect(await countRows('memory_records')).toBe(2);
    expect(await countRows('memory_tokens')).toBe(4);
    const usedBefore = Number(await usage());
    expect(await gateway.app.get(MemorySweeper).sweep()).toBeGreaterThanOrEqual(1);
    expect(await countRows('memory_records')).toBe(1);
    expect(await countRows('memory_tokens')).toBe(2);
    expect(Number(await usage())).toBe(usedBefore - 1);
    // A new record under the expired name is a creation.
    await api.put('/v1/memory/ttl/short', { value: 'again' }).expect(201);
  });

  it('quotas: records and bytes per tenant, 429 naming the quota', async () => {
    const settings = gateway.app.get(MemorySettings);
    const own = await createTenant(gateway, 'quota tenant');
    const q = client(gateway, own.key);
    const saved = { records: settings.quotaRecords, bytes: settings.quotaBytes };
    try {
      settings.quotaRecords = 2;
      await q.put('/v1/memory/q/a', { value: 'a' }).expect(201);
      await q.put('/v1/memory/q/b', { value: 'b' }).expect(201);
      const over = await q.put('/v1/memory/q/c', { value: 'c' });
      expectError(over, 429, 'memory_quota_exceeded');
      expect(over.body.error.message).toMatch(/record-count quota \(2 records per tenant/);
      expect(over.headers['retry-after']).toBeDefined();
      await q.put('/v1/memory/q/b', { value: 'b2' }).expect(200);
      await q.del('/v1/memory/q/b').expect(204);
      await q.put('/v1/memory/q/c', { value: 'c' }).expect(201);
      settings.quotaRecords = saved.records;
      settings.quotaBytes = 100;
      const bytes = await q.put('/v1/memory/q/d', { value: 'z'.repeat(200) });
      expectError(bytes, 429, 'memory_quota_exceeded');
      expect(bytes.body.error.message).toMatch(/storage quota \(100 bytes per tenant/);
      // Shrinking a record is always allowed.
      await q.put('/v1/memory/q/a', { value: '' }).expect(200);
      // Usage is per tenant: a fresh tenant still has room under the same small quotas.
      settings.quotaRecords = 2;
      const fresh = client(gateway, (await createTenant(gateway, 'quota tenant 2')).key);
      await fresh.put('/v1/memory/q/a', { value: 'a' }).expect(201);
      await fresh.put('/v1/memory/q/b', { value: 'b' }).expect(201);
      expectError(await q.put('/v1/memory/q/e', { value: 'e' }), 429, 'memory_quota_exceeded');
    } finally {
      settings.quotaRecords = saved.records;
      settings.quotaBytes = saved.bytes;
    }
  });

  it('quotas hold under concurrent writes: exactly the quota is stored, the usage row agrees', async () => {
    const settings = gateway.app.get(MemorySettings);
    const own = await createTenant(gateway, 'quota race tenant');
    const q = client(gateway, own.key);
    const saved = settings.quotaRecords;
    try {
      settings.quotaRecords = 5;
      const puts = await Promise.all(
        Array.from({ length: 20 }, (_, i) => q.put(`/v1/memory/race/k${i}`, { value: `v${i}` })),
      );
      const statuses = puts.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(5);
      expect(statuses.filter((s) => s === 429)).toHaveLength(15);
      for (const over of puts.filter((r) => r.status === 429)) {
        expectError(over, 429, 'memory_quota_exceeded');
      }
      const ds = gateway.app.get(DataSource);
      const p = ds.options.type === 'postgres' ? '$1' : '?';
      const [stored] = (await ds.query(`SELECT COUNT(*) AS n FROM memory_records WHERE tenant_id = ${p}`, [
        own.tenantId,
      ])) as { n: number | string }[];
      const [used] = (await ds.query(`SELECT records, bytes FROM memory_usage WHERE tenant_id = ${p}`, [
        own.tenantId,
      ])) as { records: number | string; bytes: number | string }[];
      expect(Number(stored!.n)).toBe(5);
      expect(Number(used!.records)).toBe(5);
      // Rewrites of stored records change no count: all of them pass at the quota.
      const rewrites = await Promise.all(
        puts
          .filter((r) => r.status === 201)
          .map((r) => q.put(`/v1/memory/race/${r.body.key as string}`, { value: 'w' })),
      );
      expect(rewrites.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      const [after] = (await ds.query(`SELECT records, bytes FROM memory_usage WHERE tenant_id = ${p}`, [
        own.tenantId,
      ])) as { records: number | string; bytes: number | string }[];
      expect(Number(after!.records)).toBe(5);
      expect(Number(after!.bytes)).toBe(5 * Buffer.byteLength(JSON.stringify('w')));
    } finally {
      settings.quotaRecords = saved;
    }
  });

  it('PII: redact by default; the tenant, the key and the namespace may choose another mode', async () => {
    const own = await createTenant(gateway, 'pii tenant');
    const p = client(gateway, own.key);
    const text = 'mail jane.doe@example.com or call 415-555-0132';
    const red = await p.put('/v1/memory/pii/r', {
      value: { note: text },
      metadata: { by: 'jane.doe@example.com' },
    });
    expect(red.status).toBe(201);
    expect(red.body.pii.action).toBe('redacted');
    expect(red.body.pii.entities).toEqual(expect.arrayContaining([{ type: 'EMAIL', count: 2 }]));
    const stored = (await p.get('/v1/memory/pii/r').expect(200)).body;
    expect(JSON.stringify(stored)).not.toContain('jane.doe@example.com');
    expect(stored.value.note).toContain('<EMAIL>');

    await p.put('/v1/admin/memory-namespaces/raw', { pii_mode: 'off' }).expect(200);
    expect((await p.get('/v1/admin/memory-namespaces/raw').expect(200)).body).toEqual({
      namespace: 'raw',
      pii_mode: 'off',
    });
    const off = await p.put('/v1/memory/raw/r', { value: text }).expect(201);
    expect(off.body.pii).toEqual({ action: 'off', entities: [] });
    expect((await p.get('/v1/memory/raw/r').expect(200)).body.value).toBe(text);

    await p.put('/v1/admin/memory-namespaces/strict', { pii_mode: 'block' }).expect(200);
    const blocked = await p.put('/v1/memory/strict/r', { value: text });
    expectError(blocked, 422, 'pii_blocked');
    expect(blocked.body.error.message).toContain('EMAIL');
    expect(blocked.body.error.message).not.toContain('jane');
    await p.get('/v1/memory/strict/r').expect(404);
    await p.put('/v1/memory/strict/clean', { value: 'nothing personal' }).expect(201);

    await gateway.app.get(TenantService).replaceLimits(own.tenantId, { piiMode: 'block' });
    const other = await createTenant(gateway, 'pii tenant 2');
    await gateway.app.get(TenantService).replaceLimits(other.tenantId, { piiMode: 'block' });
    expectError(
      await client(gateway, other.key).put('/v1/memory/any/r', { value: text }),
      422,
      'pii_blocked',
    );
    // A key's own mode may tighten its tenant's, never loosen it.
    const keyWith = async (tenantId: string, piiMode: 'off' | 'block') =>
      client(
        gateway,
        (
          await gateway.app.get(ApiKeyService).createKey({
            tenantId,
            name: `pii ${piiMode}`,
            scopes: ['memory:read', 'memory:write'],
            limits: { piiMode },
            actor: ACTOR,
          })
        ).key,
      );
    const put = async (c: Client, key: string) => c.put(`/v1/memory/any/${key}`, { value: text });
    expectError(await put(await keyWith(other.tenantId, 'off'), 'r'), 422, 'pii_blocked');
    const third = await createTenant(gateway, 'pii tenant 3');
    expectError(await put(await keyWith(third.tenantId, 'block'), 'r'), 422, 'pii_blocked');
    expect((await put(client(gateway, third.key), 'r')).body.pii.action).toBe('redacted');
    const loose = await put(await keyWith(third.tenantId, 'off'), 'r2');
    expect(loose.status).toBe(201);
    expect(loose.body.pii.action).toBe('off');

    const events = await auditEvents(p);
    const pii = events.filter((e) => String(e.action).startsWith('pii.'));
    expect(pii.map((e) => e.action)).toEqual(expect.arrayContaining(['pii.detected', 'pii.blocked']));
    for (const e of pii)
      expect(e.pii_summary).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'EMAIL' })]));
    expect(JSON.stringify(events)).not.toContain('jane.doe');
  });

  it('PII API: detect and redact report types, offsets and scores', async () => {
    const text = 'reach me at jane.doe@example.com';
    const det = await api.post('/v1/pii/detect', { text }).expect(200);
    expect(det.body.entities).toEqual([{ type: 'EMAIL', start: 12, end: 32, score: expect.any(Number) }]);
    expect(det.body).not.toHaveProperty('text');
    const red = await api.post('/v1/pii/redact', { text }).expect(200);
    expect(red.body.text).toBe('reach me at <EMAIL>');
    const masked = await api.post('/v1/pii/redact', { text, mode: 'mask' }).expect(200);
    expect(masked.body.text).not.toContain('jane.doe@example.com');
    expectError(await api.post('/v1/pii/redact', { text, mode: 'block' }), 422, 'pii_blocked');
    expectError(await api.post('/v1/pii/redact', { text, mode: 'shout' }), 400, 'invalid_request');
  });

  it('scopes: memory:read reads, memory:write writes, audit:read audits, admin erases', async () => {
    const reader = client(gateway, await createKey(gateway, tenant.tenantId, ['memory:read']));
    const writer = client(gateway, await createKey(gateway, tenant.tenantId, ['memory:write']));
    await reader.get('/v1/memory/notes/n1').expect(200);
    await reader.get('/v1/memory/notes').expect(200);
    await reader.post('/v1/memory/notes/search', { query: 'second' }).expect(200);
    expectError(await reader.put('/v1/memory/notes/n1', { value: 1 }), 403, 'insufficient_scope');
    expectError(await reader.del('/v1/memory/notes/n1'), 403, 'insufficient_scope');
    expectError(await reader.del('/v1/memory/notes'), 403, 'insufficient_scope');
    expectError(await reader.get('/v1/audit'), 403, 'insufficient_scope');
    expectError(await reader.del('/v1/admin/tenant-data'), 403, 'insufficient_scope');
    await writer.put('/v1/memory/notes/w', { value: 1 }).expect(201);
    expectError(await writer.get('/v1/memory/notes/w'), 403, 'insufficient_scope');
    expectError(await writer.del('/v1/admin/tenant-data'), 403, 'insufficient_scope');
    expectError(await request(gateway.url).get('/v1/memory/notes/n1'), 401, 'missing_credential');
    expectError(await request(gateway.url).get('/v1/audit/verify'), 401, 'missing_credential');
  });

  it('every access is audited (never a value), and auth events land in the chain', async () => {
    const own = await createTenant(gateway, 'audited tenant');
    const a = client(gateway, own.key);
    await a.put('/v1/memory/aud/k', { value: 'secret-ish words' }).expect(201);
    await a.get('/v1/memory/aud/k').expect(200);
    await a.get('/v1/memory/aud').expect(200);
    await a.post('/v1/memory/aud/search', { query: 'words' }).expect(200);
    await a.get('/v1/memory/aud/missing').expect(404);
    await a.del('/v1/memory/aud/k').expect(204);
    const readOnly = client(gateway, await createKey(gateway, own.tenantId, ['memory:read']));
    await readOnly.put('/v1/memory/aud/k', { value: 1 }).expect(403);
    const events = await auditEvents(a);
    const brief = events.map((e) => `${e.action} ${e.resource_id} ${e.outcome} ${e.status_code}`);
    expect(brief).toEqual(
      expect.arrayContaining([
        'memory.write aud/k success 201',
        'memory.read aud/k success 200',
        'memory.read aud success 200',
        'memory.search aud success 200',
        'memory.read aud/missing failure 404',
        'memory.delete aud/k success 204',
      ]),
    );
    expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(['apikey.created', 'auth.denied']));
    expect(JSON.stringify(events)).not.toContain('secret-ish');
    const verify = await a.get('/v1/audit/verify').expect(200);
    expect(verify.body).toMatchObject({ ok: true, first_bad_seq: null, reason: null });
    expect(verify.body.checked).toBe(events.length);
    const filtered = await auditEvents(a, '&action=memory.search');
    expect(filtered.map((e) => e.action)).toEqual(['memory.search']);
    expectError(await a.get('/v1/audit?action=memory.nope'), 400, 'invalid_action');
    expectError(await a.get('/v1/audit?start=yesterday'), 400, 'invalid_start');
    expectError(await a.get('/v1/audit?actor=a%00b'), 400, 'invalid_request');
    expectError(await a.get('/v1/audit?cursor=%00%ff'), 400, 'invalid_cursor');
    expect(
      (await a.get(`/v1/audit?actor=${encodeURIComponent('api_key:none')}`).expect(200)).body.items,
    ).toEqual([]);
  });

  it('the audit export streams NDJSON', async () => {
    const res = await api.get('/v1/audit/export').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.headers['transfer-encoding']).toBe('chunked');
    const lines = (res.text as string)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; action: string });
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i + 1));
    expect(lines.some((l) => l.action === 'memory.write')).toBe(true);
  });

  it('metrics are exported', async () => {
    const text = (await request(gateway.url).get('/metrics').expect(200)).text;
    expect(text).toMatch(/atp_memory_operations_total\{op="put",outcome="success"\} \d+/);
    expect(text).toMatch(/atp_memory_operations_total\{op="get",outcome="not_found"\} \d+/);
    expect(text).toMatch(/atp_memory_operation_seconds_bucket\{le="[^"]+",op="search"\} \d+/);
    expect(text).toMatch(/atp_pii_entities_total\{type="EMAIL",action="redacted"\} \d+/);
    expect(text).toMatch(/atp_audit_events_total\{action="memory.write",outcome="success"\} \d+/);
    expect(text).toMatch(/atp_audit_write_lag_seconds_count \d+/);
  });

  it('PII_DETECTION_ENABLED=false stores values as they are (still encrypted), whatever the modes', async () => {
    const env = await createTestEnv({ PII_DETECTION_ENABLED: 'false' });
    const off = await bootApp('memory-gateway', AppModule, env.env);
    try {
      const t = await createTenant(off, 'no pii tenant');
      await off.app.get(TenantService).replaceLimits(t.tenantId, { piiMode: 'block' });
      const c = client(off, t.key);
      const text = 'mail jane.doe@example.com';
      const res = await c.put('/v1/memory/n/k', { value: text }).expect(201);
      expect(res.body.pii).toEqual({ action: 'off', entities: [] });
      expect((await c.get('/v1/memory/n/k').expect(200)).body.value).toBe(text);
    } finally {
      await off.close();
      await env.cleanup();
    }
  });
});
