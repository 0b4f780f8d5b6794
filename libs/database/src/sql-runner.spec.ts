import { Socket } from 'node:net';
import { DataSource } from 'typeorm';
import { loadConfig } from '@app/config';
import { createTestEnv, SERVICES_LABEL, type TestEnv, usingPostgres } from '@app/testing';
import { dataSourceOptions } from './data-source-options';
import { defer, sql } from './sql';
import { type SqlPlan, SqlRunner } from './sql-runner';

describe(`SqlRunner on ${SERVICES_LABEL}`, () => {
  let testEnv: TestEnv;
  let ds: DataSource;
  let db: SqlRunner;
  const values = async () =>
    (await db.run(sql('SELECT id, v FROM sql_runner_t ORDER BY id'))).rows.map((r) => [Number(r.id), r.v]);

  beforeAll(async () => {
    testEnv = await createTestEnv();
    ds = await new DataSource(dataSourceOptions(loadConfig('router', testEnv.env).database, [])).initialize();
    db = new SqlRunner(ds);
    await db.run(sql('CREATE TABLE sql_runner_t (id integer PRIMARY KEY, v varchar(20) NOT NULL)'));
  });
  afterAll(async () => {
    await ds?.destroy();
    await testEnv?.cleanup();
  });
  beforeEach(async () => {
    await db.run(sql('DELETE FROM sql_runner_t'));
  });

  it('a plan reads what it wrote before, deferred or not, and commits it all', async () => {
    const got = await db.transaction(function* (): SqlPlan<number> {
      yield defer(sql("INSERT INTO sql_runner_t (id, v) VALUES (1, 'a')"));
      yield sql("INSERT INTO sql_runner_t (id, v) VALUES (2, 'b')");
      const { rows } = yield sql('SELECT COUNT(*) AS n FROM sql_runner_t');
      yield defer(sql("INSERT INTO sql_runner_t (id, v) VALUES (3, 'c')"));
      return Number(rows[0].n);
    });
    expect(got).toBe(2);
    expect(await values()).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ]);
  });

  it('a deferred statement that fails rolls the whole plan back and is the error reported', async () => {
    await db.run(sql("INSERT INTO sql_runner_t (id, v) VALUES (1, 'kept')"));
    const failing = db.transaction(function* (): SqlPlan<void> {
      yield defer(sql("INSERT INTO sql_runner_t (id, v) VALUES (2, 'b')"));
      yield defer(sql("INSERT INTO sql_runner_t (id, v) VALUES (1, 'duplicate')"));
      yield defer(sql("INSERT INTO sql_runner_t (id, v) VALUES (3, 'c')"));
    });
    await expect(failing).rejects.toThrow(/unique|UNIQUE|duplicate/);
    expect(await values()).toEqual([[1, 'kept']]);
  });

  it('a plan that throws between statements rolls back what it sent', async () => {
    const failing = db.transaction(function* (): SqlPlan<void> {
      yield defer(sql("INSERT INTO sql_runner_t (id, v) VALUES (1, 'a')"));
      const { rows } = yield sql('SELECT COUNT(*) AS n FROM sql_runner_t');
      if (Number(rows[0].n) === 1) throw new Error('refused by the plan');
    });
    await expect(failing).rejects.toThrow('refused by the plan');
    expect(await values()).toEqual([]);
    // The connection went back to the pool usable.
    await db.transaction(function* (): SqlPlan<void> {
      yield defer(sql("INSERT INTO sql_runner_t (id, v) VALUES (1, 'after')"));
    });
    expect(await values()).toEqual([[1, 'after']]);
  });

  (usingPostgres ? it : it.skip)(
    'PostgreSQL: the statements sent without waiting leave in one write (BEGIN with the first read; the writes with COMMIT)',
    async () => {
      await db.run(sql('SELECT 1')); // an idle pooled connection, so no connection set-up is counted
      const writes = [jest.spyOn(Socket.prototype, '_write'), jest.spyOn(Socket.prototype, '_writev')];
      try {
        await db.transaction(function* (): SqlPlan<void> {
          const { rows } = yield sql('SELECT COUNT(*) AS n FROM sql_runner_t');
          for (let i = 1; i <= 3; i++)
            yield defer(sql('INSERT INTO sql_runner_t (id, v) VALUES (?, ?)', i, `row ${rows.length}`));
          yield defer(sql("UPDATE sql_runner_t SET v = 'last' WHERE id = 3"));
        });
        const calls = writes.reduce((n, spy) => n + spy.mock.calls.length, 0);
        expect(calls).toBe(2);
      } finally {
        for (const spy of writes) spy.mockRestore();
      }
      expect(await values()).toEqual([
        [1, 'row 1'],
        [2, 'row 1'],
        [3, 'last'],
      ]);
    },
  );
});
