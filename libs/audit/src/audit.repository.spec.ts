import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { loadConfig } from '@app/config';
import { dataSourceOptions, runMigrations, sqliteDatetime } from '@app/database';
import { createTestEnv, SERVICES_LABEL, type TestEnv, usingPostgres } from '@app/testing';
import { AUDIT_ENTITIES } from './audit.module';
import { sealEvents, EMPTY_HEAD } from './audit-chain';
import { AuditEventEntity } from './audit-event.entity';
import { toPendingEvent } from './audit-event.mapper';
import { AUDIT_EVENT_COLUMNS, AuditRepository, pushRowValues } from './audit.repository';
import { AuditService } from './audit.service';
import type { AuditEventInput } from './audit.types';

const secret = { id: 'a1', key: randomBytes(32) };
const WRITERS = 8;
const EVENTS_PER_WRITER = 500;

function event(tenantId: string, i: number, writer = 0): AuditEventInput {
  return {
    tenantId,
    action: i % 2 ? 'memory.read' : 'memory.write',
    actorType: 'api_key',
    actorId: `writer-${writer}`,
    credentialId: `key-${writer}`,
    outcome: 'success',
    statusCode: 200,
    resourceType: 'memory',
    resourceId: `notes/k${i}`,
    requestId: `req-${writer}-${i}`,
    sourceIp: `198.51.100.${i % 250}`,
    piiSummary: i % 5 ? null : { EMAIL: 1 },
  };
}

describe(`audit chain storage on ${SERVICES_LABEL}`, () => {
  let testEnv: TestEnv;
  const sources: DataSource[] = [];

  async function openDataSource(): Promise<DataSource> {
    const config = loadConfig('memory-gateway', testEnv.env);
    const options = dataSourceOptions(config.database, AUDIT_ENTITIES);
    // Small pools: the 8 "replicas" share one PostgreSQL server with other test files.
    const ds = await new DataSource(
      options.type === 'postgres' ? { ...options, extra: { ...options.extra, max: 2 } } : options,
    ).initialize();
    sources.push(ds);
    return ds;
  }

  function service(ds: DataSource, batchSize = 100): AuditService {
    return new AuditService(new AuditRepository(ds), { enabled: true, auditSecret: secret, batchSize });
  }

  async function writeChain(ds: DataSource, tenantId: string, n: number): Promise<void> {
    const s = service(ds);
    for (let i = 0; i < n; i++) await s.record(event(tenantId, i));
    await s.close();
  }

  /** Tampering needs the append-only guard off: a superuser on PostgreSQL, dropping the SQLite trigger. */
  async function withoutGuard(ds: DataSource, fn: () => Promise<void>): Promise<void> {
    if (usingPostgres) {
      await ds.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only');
      try {
        await fn();
      } finally {
        await ds.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only');
      }
      return;
    }
    const triggers = (await ds.query(
      `SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'`,
    )) as { name: string; sql: string }[];
    expect(triggers).toHaveLength(2);
    for (const t of triggers) await ds.query(`DROP TRIGGER ${t.name}`);
    try {
      await fn();
    } finally {
      for (const t of triggers) await ds.query(t.sql);
    }
  }

  beforeAll(async () => {
    testEnv = await createTestEnv();
    await runMigrations(await openDataSource());
  });
  afterAll(async () => {
    for (const ds of sources) if (ds.isInitialized) await ds.destroy();
    await testEnv?.cleanup();
  });

  it(`${WRITERS} replicas × ${EVENTS_PER_WRITER} events on one tenant give one gapless chain that verifies`, async () => {
    const replicas = await Promise.all(Array.from({ length: WRITERS }, () => openDataSource()));
    const services = replicas.map((ds) => service(ds, 50));
    await Promise.all(
      services.map(async (s, w) => {
        for (let i = 0; i < EVENTS_PER_WRITER; i++) {
          // A second tenant interleaved: chains are independent.
          await s.record(event(i % 10 ? 'tenant-busy' : 'tenant-side', i, w));
          if (i % 100 === 99) await s.flush();
        }
        await s.close();
      }),
    );
    const ds = replicas[0];
    const [{ n, max, d }] = (await ds.query(
      `SELECT COUNT(*) AS n, MAX(seq) AS max, COUNT(DISTINCT seq) AS d FROM audit_events WHERE tenant_id = 'tenant-busy'`,
    )) as { n: string | number; max: string | number; d: string | number }[];
    const busy = (WRITERS * EVENTS_PER_WRITER * 9) / 10;
    expect([Number(n), Number(max), Number(d)]).toEqual([busy, busy, busy]);
    await expect(services[3].verify('tenant-busy')).resolves.toEqual({
      ok: true,
      checked: busy,
      first_bad_seq: null,
      reason: null,
    });
    await expect(services[5].verify('tenant-side')).resolves.toMatchObject({
      ok: true,
      checked: WRITERS * 50,
    });
    // Every writer's own events keep their order within the chain.
    const rows = (await ds.query(
      `SELECT request_id FROM audit_events WHERE tenant_id = 'tenant-busy' AND actor_id = 'writer-2' ORDER BY seq`,
    )) as { request_id: string }[];
    const indices = rows.map((r) => Number(r.request_id.split('-')[2]));
    expect(indices).toEqual([...indices].sort((a, b) => a - b));
    // The writers really did contend: their batches interleave in the chain.
    const order = (await ds.query(
      `SELECT actor_id FROM audit_events WHERE tenant_id = 'tenant-busy' ORDER BY seq`,
    )) as { actor_id: string }[];
    const switches = order.filter((r, i) => i > 0 && r.actor_id !== order[i - 1].actor_id).length;
    expect(switches).toBeGreaterThan(WRITERS);
  });

  it('an edited field makes verify report that seq (hash_mismatch)', async () => {
    const ds = sources[0];
    await writeChain(ds, 'tenant-edit', 20);
    await withoutGuard(ds, async () => {
      await ds.query(`UPDATE audit_events SET status_code = 500 WHERE tenant_id = 'tenant-edit' AND seq = 7`);
    });
    await expect(service(ds).verify('tenant-edit')).resolves.toEqual({
      ok: false,
      checked: 6,
      first_bad_seq: 7,
      reason: 'hash_mismatch',
    });
  });

  it('a deleted row makes verify report the missing seq (seq_gap)', async () => {
    const ds = sources[0];
    await writeChain(ds, 'tenant-del', 20);
    await withoutGuard(ds, async () => {
      await ds.query(`DELETE FROM audit_events WHERE tenant_id = 'tenant-del' AND seq = 12`);
    });
    await expect(service(ds).verify('tenant-del')).resolves.toEqual({
      ok: false,
      checked: 11,
      first_bad_seq: 12,
      reason: 'seq_gap',
    });
  });

  it('a deleted tail is caught against the chain head', async () => {
    const ds = sources[0];
    await writeChain(ds, 'tenant-tail', 10);
    await withoutGuard(ds, async () => {
      await ds.query(`DELETE FROM audit_events WHERE tenant_id = 'tenant-tail' AND seq >= 9`);
    });
    await expect(service(ds).verify('tenant-tail')).resolves.toMatchObject({
      ok: false,
      first_bad_seq: 9,
      reason: 'seq_gap',
    });
  });

  it('two re-ordered rows (seq values swapped) make verify report the first (prev_hash_mismatch)', async () => {
    const ds = sources[0];
    await writeChain(ds, 'tenant-swap', 20);
    await withoutGuard(ds, async () => {
      const q = `UPDATE audit_events SET seq = $1 WHERE tenant_id = 'tenant-swap' AND seq = $2`.replace(
        /\$(\d)/g,
        usingPostgres ? '$$$1' : '?',
      );
      await ds.query(q, [-1, 5]);
      await ds.query(q, [5, 6]);
      await ds.query(q, [6, -1]);
    });
    await expect(service(ds).verify('tenant-swap')).resolves.toEqual({
      ok: false,
      checked: 4,
      first_bad_seq: 5,
      reason: 'prev_hash_mismatch',
    });
  });

  it('the append-only trigger rejects a plain UPDATE and DELETE, and deleting a chain head', async () => {
    const ds = sources[0];
    await writeChain(ds, 'tenant-guard', 3);
    await expect(
      ds.query(`UPDATE audit_events SET outcome = 'failure' WHERE tenant_id = 'tenant-guard'`),
    ).rejects.toThrow(/append-only/);
    await expect(ds.query(`DELETE FROM audit_events WHERE tenant_id = 'tenant-guard'`)).rejects.toThrow(
      /append-only/,
    );
    await expect(ds.query(`DELETE FROM audit_chain_heads WHERE tenant_id = 'tenant-guard'`)).rejects.toThrow(
      /not allowed/,
    );
    if (usingPostgres) await expect(ds.query('TRUNCATE audit_events')).rejects.toThrow(/append-only/);
    await expect(service(ds).verify('tenant-guard')).resolves.toMatchObject({ ok: true, checked: 3 });
  });

  it('writes each column as TypeORM would (prepared SQLite statements / one JSON parameter on PostgreSQL)', async () => {
    const ds = sources[0];
    const meta = ds.getMetadata(AuditEventEntity);
    expect([...AUDIT_EVENT_COLUMNS].sort()).toEqual(meta.columns.map((c) => c.databaseName).sort());
    const dates = [
      new Date('2026-11-26T08:00:00.007Z'),
      new Date('1999-01-02T03:04:05.000Z'),
      new Date('0001-01-01T00:00:00.000Z'),
      new Date('+010000-06-01T12:00:00.120Z'),
    ];
    const inputs: AuditEventInput[] = dates.map((occurredAt, i) => ({
      ...event('tenant-values', i),
      occurredAt,
      actorId: i === 1 ? null : `quote " and 😀 ${i}`,
      piiSummary: i === 2 ? [{ type: 'EMAIL', count: 2 }] : null,
      statusCode: i === 3 ? null : 200,
    }));
    const { rows } = sealEvents(
      secret,
      EMPTY_HEAD,
      inputs.map((e) => toPendingEvent(e, new Date())),
    );
    for (const row of rows) {
      const values: unknown[] = [];
      pushRowValues(values, row, usingPostgres ? row.occurred_at : sqliteDatetime(row.occurred_at));
      const expected = AUDIT_EVENT_COLUMNS.map((name) => {
        const column = meta.findColumnWithDatabaseName(name)!;
        return ds.driver.preparePersistentValue(column.getEntityValue(row), column) as unknown;
      });
      expect(values).toEqual(expected);
    }

    // Through the repository: what is read back is what was sealed, and the chain verifies
    // (the year-10000 row takes PostgreSQL's parameter-per-column path; TypeORM's SQLite date
    // format has four year digits, so SQLite never stored such a date faithfully).
    const repository = new AuditRepository(ds);
    const pendings = inputs.map((e, i) =>
      toPendingEvent(
        i === 3 && !usingPostgres ? { ...e, occurredAt: new Date('2100-06-01T12:00:00.120Z') } : e,
        new Date(),
      ),
    );
    const written = [
      ...(await repository.appendToChain('tenant-values', pendings.slice(0, 3), secret)),
      ...(await repository.appendToChain('tenant-values', pendings.slice(3), secret)),
      ...(await repository.appendToChain(
        'tenant-values',
        pendings.slice(0, 1).map((p) => ({ ...p, event_id: randomUUID() })),
        secret,
      )),
    ];
    const stored = await repository.pageBySeq('tenant-values', { afterSeq: 0, limit: 100 });
    expect(stored).toEqual(written);
    expect(stored.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    const [{ n }] = (await ds.query(
      `SELECT COUNT(*) AS n FROM audit_events WHERE tenant_id = 'tenant-values' AND pii_summary IS NULL`,
    )) as { n: string | number }[];
    expect(Number(n)).toBe(4);
    await expect(service(ds).verify('tenant-values')).resolves.toEqual({
      ok: true,
      checked: 5,
      first_bad_seq: null,
      reason: null,
    });
  });

  it('the unique (tenant_id, seq) index backs the lock up', async () => {
    const ds = sources[0];
    await writeChain(ds, 'tenant-uq', 1);
    const cols = 'tenant_id, occurred_at, actor_type, action, outcome, hash_key_id, prev_hash, hash';
    const copy = (seq: string, id: string) => `INSERT INTO audit_events (event_id, seq, ${cols})
      SELECT '00000000-0000-4000-8000-00000000000${id}', ${seq}, ${cols} FROM audit_events WHERE tenant_id = 'tenant-uq'`;
    await expect(ds.query(copy('seq', '1'))).rejects.toThrow(/unique|duplicate/i);
    // The same row at a free seq is accepted: the failure above was the (tenant_id, seq) index.
    await expect(ds.query(copy('seq + 1', '2'))).resolves.toBeDefined();
  });
});
