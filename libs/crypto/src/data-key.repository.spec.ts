import { DataSource } from 'typeorm';
import { loadConfig } from '@app/config';
import { dataSourceOptions, runMigrations, sql, type SqlPlan, SqlRunner } from '@app/database';
import { createTestEnv, SERVICES_LABEL, type TestEnv, usingPostgres } from '@app/testing';
import { DataKeyDestroyedError } from './crypto.errors';
import { DataKeyRepository } from './data-key.repository';

describe(`DataKeyRepository.hold on ${SERVICES_LABEL}`, () => {
  let testEnv: TestEnv;
  let ds: DataSource;
  let db: SqlRunner;
  let keys: DataKeyRepository;
  const stored = (tenantId: string, dataKeyId: string) => ({
    tenantId,
    dataKeyId,
    wrapped: Buffer.from('wrapped'),
    kekId: 'k1',
  });

  beforeAll(async () => {
    testEnv = await createTestEnv();
    ds = await new DataSource(
      dataSourceOptions(loadConfig('memory-gateway', testEnv.env).database),
    ).initialize();
    await runMigrations(ds);
    db = new SqlRunner(ds);
    keys = new DataKeyRepository(db);
  });
  afterAll(async () => {
    await ds?.destroy();
    await testEnv?.cleanup();
  });

  it("passes for the tenant's key; refuses a destroyed key and another tenant's, rolling the write back", async () => {
    await keys.insertIfAbsent(stored('t-hold', 'dk_a'));
    await keys.insertIfAbsent(stored('t-other', 'dk_b'));
    await expect(db.transaction(() => keys.hold('t-hold', 'dk_a'))).resolves.toBeUndefined();
    await expect(db.transaction(() => keys.hold('t-hold', 'dk_b'))).rejects.toBeInstanceOf(
      DataKeyDestroyedError,
    );
    await keys.destroyAll('t-hold');
    const write = function* (): SqlPlan<void> {
      yield sql("INSERT INTO memory_usage (tenant_id, records, bytes) VALUES ('t-hold', 1, 1)");
      yield* keys.hold('t-hold', 'dk_a');
    };
    await expect(db.transaction(write)).rejects.toBeInstanceOf(DataKeyDestroyedError);
    const { rows } = await db.run(sql("SELECT COUNT(*) AS n FROM memory_usage WHERE tenant_id = 't-hold'"));
    expect(Number(rows[0].n)).toBe(0);
  });

  (usingPostgres ? it : it.skip)(
    'PostgreSQL: an erasure waits for a write that holds the key, then commits',
    async () => {
      await keys.insertIfAbsent(stored('t-wait', 'dk_w'));
      const order: string[] = [];
      const write = db
        .transaction(function* (): SqlPlan<void> {
          yield* keys.hold('t-wait', 'dk_w');
          yield sql('SELECT pg_sleep(0.5)');
        })
        .then(() => order.push('write committed'));
      // The write holds the key by now (it sleeps 0.5 s after taking it).
      await new Promise((r) => setTimeout(r, 200));
      const erasure = keys.destroyAll('t-wait').then((n) => order.push(`erasure destroyed ${n}`));
      await Promise.all([write, erasure]);
      expect(order).toEqual(['write committed', 'erasure destroyed 1']);
      expect(await keys.findCurrent('t-wait')).toBeNull();
    },
  );
});
