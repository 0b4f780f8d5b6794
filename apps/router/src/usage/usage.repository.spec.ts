import { DataSource } from 'typeorm';
import { loadConfig } from '@app/config';
import { dataSourceOptions, runMigrations, sql, SqlRunner } from '@app/database';
import { createTestEnv, SERVICES_LABEL, type TestEnv } from '@app/testing';
import { type UsageInput, UsageRecorder } from './usage-recorder';
import { UsageRepository } from './usage.repository';

function input(tenantId: string, i: number): UsageInput {
  return {
    tenantId,
    apiKeyId: null,
    subject: 's',
    endpoint: 'chat',
    route: 'r',
    provider: 'openai',
    model: 'gpt-4o-mini',
    promptTokens: i,
    completionTokens: 2 * i,
    totalTokens: 3 * i,
    costUsd: i / 1000,
    latencyMs: 5,
    ttftMs: null,
    status: 200,
    outcome: 'success',
    cached: false,
    estimated: false,
    stream: false,
    attempts: 1,
    requestId: `req-${tenantId}-${i}`,
  };
}

describe(`UsageRepository on ${SERVICES_LABEL}`, () => {
  let testEnv: TestEnv;
  let ds: DataSource;
  let db: SqlRunner;

  beforeAll(async () => {
    testEnv = await createTestEnv();
    ds = await new DataSource(dataSourceOptions(loadConfig('router', testEnv.env).database)).initialize();
    await runMigrations(ds);
    db = new SqlRunner(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
    await testEnv?.cleanup();
  });

  it('a batch that committed but lost its answer is written once on the retry, and the rows after it are not held back', async () => {
    const repository = new UsageRepository(ds);
    const real = repository.insertBatch.bind(repository);
    let lostAnswers = 1;
    jest.spyOn(repository, 'insertBatch').mockImplementation(async (rows) => {
      await real(rows);
      // The COMMIT reached the server; the connection died before its answer came back.
      if (lostAnswers-- > 0) throw new Error('Connection terminated unexpectedly');
    });
    const recorder = new UsageRecorder(repository);
    for (let i = 1; i <= 5; i++) void recorder.record(input('t-lost-answer', i));
    await recorder.flush();
    expect(recorder.pending).toBe(5);
    // The retry carries the 5 (already stored) and 3 new rows in one batch.
    for (let i = 6; i <= 8; i++) void recorder.record(input('t-lost-answer', i));
    await recorder.flush();
    expect(recorder.pending).toBe(0);
    const { rows } = await db.run(
      sql(
        'SELECT request_id, prompt_tokens FROM usage_records WHERE tenant_id = ? ORDER BY prompt_tokens',
        't-lost-answer',
      ),
    );
    expect(rows.map((r) => [r.request_id, Number(r.prompt_tokens)])).toEqual(
      Array.from({ length: 8 }, (_, k) => [`req-t-lost-answer-${k + 1}`, k + 1]),
    );
    await recorder.beforeApplicationShutdown();
  });
});
