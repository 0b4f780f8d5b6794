import { randomBytes } from 'node:crypto';
import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import { DataSource } from 'typeorm';
import { type AppConfig, loadConfig } from '@app/config';
import { DatabaseModule, dataSourceOptions, runMigrations } from '@app/database';
import { createTestEnv, SERVICES_LABEL, type TestEnv } from '@app/testing';
import { AUDIT_ENTITIES, AuditModule } from './audit.module';
import { auditOptionsFromConfig, type AuditOptions } from './audit.options';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';
import type { AuditEventInput } from './audit.types';

const secret = { id: 'a1', key: randomBytes(32) };
const T0 = Date.parse('2026-11-01T00:00:00.000Z');

function event(tenantId: string, i: number, extra: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    tenantId,
    action: i % 3 === 0 ? 'memory.search' : 'memory.read',
    actorType: 'user',
    actorId: i % 2 ? 'alice' : 'bob',
    outcome: 'success',
    occurredAt: new Date(T0 + i * 60_000),
    ...extra,
  };
}

async function countRows(ds: DataSource, tenantId: string): Promise<number> {
  const [row] = (await ds.query(
    `SELECT COUNT(*) AS n FROM audit_events WHERE tenant_id = '${tenantId}'`,
  )) as {
    n: string | number;
  }[];
  return Number(row.n);
}

describe(`AuditService on ${SERVICES_LABEL}`, () => {
  let testEnv: TestEnv;
  let config: AppConfig;
  let ds: DataSource;

  const make = (options: Partial<AuditOptions> = {}) =>
    new AuditService(new AuditRepository(ds), { enabled: true, auditSecret: secret, ...options });

  beforeAll(async () => {
    testEnv = await createTestEnv();
    config = loadConfig('memory-gateway', testEnv.env);
    ds = await new DataSource(dataSourceOptions(config.database, AUDIT_ENTITIES)).initialize();
    await runMigrations(ds);
  });
  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
    await testEnv?.cleanup();
  });

  it('lists newest first with filters and a cursor, never across tenants', async () => {
    const s = make();
    for (let i = 0; i < 30; i++) await s.record(event('t-list', i));
    await s.record(event('t-other', 0, { actorId: 'alice' }));
    await s.close();

    const first = await s.list('t-list', { limit: 10 });
    expect(first.items.map((e) => e.seq)).toEqual([30, 29, 28, 27, 26, 25, 24, 23, 22, 21]);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await s.list('t-list', { limit: 10, cursor: first.next_cursor! });
    expect(second.items[0].seq).toBe(20);
    const third = await s.list('t-list', {
      limit: 10,
      cursor: (await s.list('t-list', { limit: 20 })).next_cursor!,
    });
    expect(third.items.map((e) => e.seq)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(third.next_cursor).toBeNull();

    const filtered = await s.list('t-list', {
      action: 'memory.search',
      actor: 'bob',
      start: new Date(T0 + 6 * 60_000),
      end: new Date(T0 + 24 * 60_000),
    });
    // i in [6, 24) with i % 3 === 0 and i even: 6, 12, 18.
    expect(filtered.items.map((e) => e.seq)).toEqual([19, 13, 7]);
    expect(filtered.items[0]).toMatchObject({
      tenant_id: 't-list',
      action: 'memory.search',
      actor_id: 'bob',
      occurred_at: '2026-11-01T00:18:00.000Z',
    });
    expect((await s.list('t-other')).items).toHaveLength(1);
    expect((await s.list('t-nobody')).items).toEqual([]);
  });

  it('rejects bad query input with 400s naming the param', async () => {
    const s = make();
    await expect(s.list('t', { limit: 0 })).rejects.toMatchObject({ status: 400, param: 'limit' });
    await expect(s.list('t', { cursor: 'garbage' })).rejects.toMatchObject({
      status: 400,
      code: 'invalid_cursor',
    });
    await expect(s.list('t', { action: 'memory.steal' as never })).rejects.toMatchObject({ param: 'action' });
    await expect(s.list('t', { start: new Date('nope') })).rejects.toMatchObject({ param: 'start' });
  });

  it('exports NDJSON oldest first, streamed page by page', async () => {
    const s = make({ batchSize: 500 });
    for (let i = 0; i < 1100; i++) await s.record(event('t-export', i, { occurredAt: new Date(T0) }));
    await s.close();
    const repository = new AuditRepository(ds);
    const pageSpy = jest.spyOn(repository, 'pageBySeq');
    const reader = new AuditService(repository, { enabled: true, auditSecret: secret });

    const iterator = reader.export('t-export')[Symbol.asyncIterator]();
    const firstLine = await iterator.next();
    expect(pageSpy).toHaveBeenCalledTimes(1);
    expect(pageSpy.mock.calls[0][1]).toMatchObject({ afterSeq: 0, limit: 500 });
    const lines = [firstLine.value as string];
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) lines.push(r.value);
    expect(pageSpy).toHaveBeenCalledTimes(3);
    expect(lines).toHaveLength(1100);
    expect(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n'))).toBe(true);
    const parsed = lines.map((l) => JSON.parse(l) as { seq: number; hash: string; prev_hash: string });
    expect(parsed.map((e) => e.seq)).toEqual(Array.from({ length: 1100 }, (_, i) => i + 1));
    expect(parsed[1].prev_hash).toBe(parsed[0].hash);

    const searches: unknown[] = [];
    for await (const e of reader.exportEvents('t-export', { action: 'memory.search' })) searches.push(e);
    expect(searches).toHaveLength(367);
  });

  it('flushes everything queued on close (nothing lost), in batches', async () => {
    const s = make({ batchSize: 50, flushIntervalMs: 60_000 });
    s.start();
    for (let i = 0; i < 1000; i++) void s.record(event('t-close', i));
    expect(s.pending).toBe(1000);
    expect(await countRows(ds, 't-close')).toBeLessThan(1000);
    await s.close();
    expect(s.pending).toBe(0);
    expect(await countRows(ds, 't-close')).toBe(1000);
    await expect(s.verify('t-close')).resolves.toMatchObject({ ok: true, checked: 1000 });
  });

  it('past maxQueue neither parks callers nor drops: it reports full (new requests get 503) and writes all', async () => {
    const s = make({ batchSize: 5, maxQueue: 10, flushIntervalMs: 60_000 });
    // The old design parked every caller past the bound in an unbounded list of waiters.
    const promises = Array.from({ length: 40 }, (_, i) => s.record(event('t-bp', i)));
    let settled = 0;
    for (const p of promises) void p.then(() => settled++);
    expect(s.pending).toBe(40);
    expect(s.full).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(40);
    await s.close();
    expect(s.full).toBe(false);
    expect(await countRows(ds, 't-bp')).toBe(40);
  });

  it('durable record resolves only once the event is committed; events recorded together share a commit', async () => {
    const repository = new AuditRepository(ds);
    const append = jest.spyOn(repository, 'appendToChain');
    // No timer: only the durable path writes.
    const s = new AuditService(repository, { enabled: true, auditSecret: secret, flushIntervalMs: 60_000 });
    let committedWhenResolved = -1;
    const first = s.record(event('t-durable', 0), { durable: true }).then(async () => {
      committedWhenResolved = await countRows(ds, 't-durable');
    });
    const rest = Array.from({ length: 20 }, (_, i) => s.record(event('t-durable', i + 1), { durable: true }));
    await first;
    await Promise.all(rest);
    expect(committedWhenResolved).toBeGreaterThanOrEqual(1);
    expect(await countRows(ds, 't-durable')).toBe(21);
    // 21 events, at most a few transactions: the first, then the ones queued meanwhile together.
    expect(append.mock.calls.length).toBeLessThanOrEqual(3);
    await s.close();
  });

  it('durable record does not hold the caller while the database fails (the event stays queued)', async () => {
    const repository = new AuditRepository(ds);
    const real = repository.appendToChain.bind(repository);
    let down = true;
    jest.spyOn(repository, 'appendToChain').mockImplementation(async (...args) => {
      if (down) throw new Error('connection refused');
      return real(...args);
    });
    const s = new AuditService(repository, { enabled: true, auditSecret: secret, flushIntervalMs: 60_000 });
    const t0 = performance.now();
    await s.record(event('t-durable-down', 0), { durable: true });
    await s.record(event('t-durable-down', 1), { durable: true });
    // Far below the 1 s durable wait: the failure released the first, the backoff the second.
    expect(performance.now() - t0).toBeLessThan(500);
    expect(s.pending).toBe(2);
    down = false;
    await s.close();
    expect(await countRows(ds, 't-durable-down')).toBe(2);
  });

  it('keeps events queued through a failing database and writes them once it recovers', async () => {
    const repository = new AuditRepository(ds);
    const real = repository.appendToChain.bind(repository);
    let failures = 2;
    jest.spyOn(repository, 'appendToChain').mockImplementation(async (...args) => {
      if (failures-- > 0) throw new Error('connection refused');
      return real(...args);
    });
    const s = new AuditService(repository, { enabled: true, auditSecret: secret, shutdownTimeoutMs: 5_000 });
    for (let i = 0; i < 7; i++) await s.record(event('t-retry', i));
    await expect(s.flush()).rejects.toThrow('connection refused');
    expect(s.pending).toBe(7);
    await s.close();
    expect(await countRows(ds, 't-retry')).toBe(7);
    await expect(s.verify('t-retry')).resolves.toMatchObject({ ok: true, checked: 7 });
  });

  it('a write that committed but lost its answer is not written twice, and the events after it are not held back', async () => {
    const repository = new AuditRepository(ds);
    const real = repository.appendToChain.bind(repository);
    let lostAnswers = 1;
    jest.spyOn(repository, 'appendToChain').mockImplementation(async (...args) => {
      const stored = await real(...args);
      // The COMMIT reached the server; the connection died before its answer came back.
      if (lostAnswers-- > 0) throw new Error('Connection terminated unexpectedly');
      return stored;
    });
    const s = new AuditService(repository, { enabled: true, auditSecret: secret, shutdownTimeoutMs: 3_000 });
    for (let i = 0; i < 7; i++) await s.record(event('t-lost-answer', i));
    await expect(s.flush()).rejects.toThrow('Connection terminated unexpectedly');
    expect(await countRows(ds, 't-lost-answer')).toBe(7);
    expect(s.pending).toBe(7);
    // The retry carries the 7 (already in the chain) and 3 new ones in one batch.
    for (let i = 7; i < 10; i++) await s.record(event('t-lost-answer', i));
    await s.flush();
    expect(s.pending).toBe(0);
    const items = (await s.list('t-lost-answer', { limit: 100 })).items.reverse();
    expect(items.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(items.map((e) => e.occurred_at)).toEqual(
      Array.from({ length: 10 }, (_, i) => new Date(T0 + i * 60_000).toISOString()),
    );
    await expect(s.verify('t-lost-answer')).resolves.toMatchObject({ ok: true, checked: 10 });
    await s.close();
  });

  it('a batch where one tenant fails keeps only that tenant queued, in order, and writes it later', async () => {
    const repository = new AuditRepository(ds);
    const real = repository.appendToChain.bind(repository);
    let failures = 1;
    jest.spyOn(repository, 'appendToChain').mockImplementation(async (tenantId, ...rest) => {
      if (tenantId === 't-part-b' && failures-- > 0) throw new Error('connection reset');
      return real(tenantId, ...rest);
    });
    // One batch holds both tenants (no timer; the queue never reaches batchSize).
    const s = new AuditService(repository, { enabled: true, auditSecret: secret, batchSize: 100 });
    for (let i = 0; i < 25; i++) await s.record(event(i % 2 ? 't-part-b' : 't-part-a', i));
    await expect(s.flush()).rejects.toThrow('connection reset');
    expect(await countRows(ds, 't-part-a')).toBe(13);
    expect(await countRows(ds, 't-part-b')).toBe(0);
    expect(s.pending).toBe(12);
    for (let i = 25; i < 30; i++) await s.record(event('t-part-b', i));
    await s.close();
    expect(s.pending).toBe(0);
    expect(await countRows(ds, 't-part-a')).toBe(13);
    expect(await countRows(ds, 't-part-b')).toBe(17);
    for (const tenant of ['t-part-a', 't-part-b']) {
      const times = (await s.list(tenant, { limit: 100 })).items.reverse().map((e) => e.occurred_at);
      expect(times).toEqual([...times].sort());
      await expect(s.verify(tenant)).resolves.toMatchObject({ ok: true });
    }
  });

  it('does nothing when AUDIT_LOG_ENABLED=false', async () => {
    const disabled = loadConfig('memory-gateway', { ...testEnv.env, AUDIT_LOG_ENABLED: 'false' });
    const s = new AuditService(new AuditRepository(ds), auditOptionsFromConfig(disabled));
    expect(s.enabled).toBe(false);
    await s.record(event('t-off', 1));
    await s.close();
    expect(await countRows(ds, 't-off')).toBe(0);
  });

  it('stamps occurred_at from the injected clock and counts written events', async () => {
    const before = (await register.getSingleMetricAsString('atp_audit_events_total')).match(
      /atp_audit_events_total\{action="tenant.created",outcome="success"\} (\d+)/,
    );
    const s = make({ clock: () => new Date('2030-01-02T03:04:05.678Z') });
    await s.record({
      tenantId: 't-clock',
      action: 'tenant.created',
      actorType: 'system',
      outcome: 'success',
    });
    await s.close();
    const [only] = (await s.list('t-clock')).items;
    expect(only.occurred_at).toBe('2030-01-02T03:04:05.678Z');
    const metrics = await register.getSingleMetricAsString('atp_audit_events_total');
    const after = /atp_audit_events_total\{action="tenant.created",outcome="success"\} (\d+)/.exec(metrics);
    expect(Number(after![1])).toBe(Number(before?.[1] ?? 0) + 1);
    expect(await register.getSingleMetricAsString('atp_audit_write_lag_seconds')).toMatch(
      /atp_audit_write_lag_seconds_count \d+/,
    );
  });

  it('as a Nest module: events recorded before app.close() are all written', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        DatabaseModule.forRoot(config),
        AuditModule.forRoot(auditOptionsFromConfig(config, { flushIntervalMs: 60_000, batchSize: 25 })),
      ],
    }).compile();
    const app = await moduleRef.init();
    const audit = app.get(AuditService);
    for (let i = 0; i < 300; i++) void audit.record(event('t-nest', i));
    await app.close();
    expect(await countRows(ds, 't-nest')).toBe(300);
    const verifier = new AuditService(new AuditRepository(ds), auditOptionsFromConfig(config));
    await expect(verifier.verify('t-nest')).resolves.toMatchObject({ ok: true, checked: 300 });
    // Router rows verify on the gateway: the router keys them from the same key ring (it stores
    // encrypted responses); rows it keyed from JWT_SECRET_KEY before that verify too.
    const router = loadConfig('router', testEnv.env);
    const routerAudit = new AuditService(new AuditRepository(ds), auditOptionsFromConfig(router));
    await routerAudit.record(event('t-nest', 301, { action: 'chat.completion' }));
    await routerAudit.close();
    await expect(verifier.verify('t-nest')).resolves.toMatchObject({ ok: true, checked: 301 });
    expect((await verifier.list('t-nest', { limit: 1 })).items[0].hash_key_id).toBe('kr:t1');
  });
});
