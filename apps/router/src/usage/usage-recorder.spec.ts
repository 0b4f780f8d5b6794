import type { AppConfig } from '@app/config';
import { BufferPressure } from '@app/observability';
import type { UsageRecordEntity } from './usage-record.entity';
import { USAGE_BUFFER_LIMIT, type UsageInput, UsageRecorder } from './usage-recorder';
import type { UsageRepository } from './usage.repository';

/** A repository whose inserts the test completes or fails by hand. */
function fakeRepository() {
  const inserts: { rows: UsageRecordEntity[]; resolve: () => void; reject: (e: Error) => void }[] = [];
  const repo = {
    insertBatch: (rows: UsageRecordEntity[]) =>
      new Promise<void>((resolve, reject) => inserts.push({ rows: [...rows], resolve, reject })),
  };
  return { repo: repo as unknown as UsageRepository, inserts };
}

const config = (durable: boolean) =>
  ({ env: { ATP_DURABLE_RECORDS: durable } }) as unknown as AppConfig<'router'>;

function row(i: number): UsageInput {
  return {
    tenantId: 't',
    apiKeyId: null,
    subject: 's',
    endpoint: 'chat',
    route: 'r',
    provider: 'p',
    model: 'm',
    promptTokens: 1,
    completionTokens: 1,
    totalTokens: 2,
    costUsd: 0,
    latencyMs: 1,
    ttftMs: null,
    status: 200,
    outcome: 'ok',
    cached: false,
    estimated: false,
    stream: false,
    attempts: 1,
    requestId: `r${i}`,
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('UsageRecorder', () => {
  it('durable: record resolves only once its row is committed; rows recorded meanwhile share the next commit', async () => {
    const { repo, inserts } = fakeRepository();
    const recorder = new UsageRecorder(repo, config(true));
    let firstDone = false;
    const first = recorder.record(row(0)).then(() => (firstDone = true));
    await tick();
    expect(inserts).toHaveLength(1);
    // Five calls finish while the first commit is in flight.
    const rest = [1, 2, 3, 4, 5].map((i) => recorder.record(row(i)));
    await tick();
    expect(firstDone).toBe(false);
    inserts[0].resolve();
    await first;
    expect(firstDone).toBe(true);
    await tick();
    // One group commit for the five.
    expect(inserts).toHaveLength(2);
    expect(inserts[1].rows.map((r) => r.requestId)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    inserts[1].resolve();
    await Promise.all(rest);
    expect(recorder.pending).toBe(0);
  });

  it('durable, database failing: callers are released at once and the rows stay queued for the retry', async () => {
    const { repo, inserts } = fakeRepository();
    const recorder = new UsageRecorder(repo, config(true));
    const first = recorder.record(row(0));
    await tick();
    inserts[0].reject(new Error('connection refused'));
    await first;
    expect(recorder.pending).toBe(1);
    // Known outage: the next caller does not wait for a commit at all.
    const t0 = performance.now();
    await recorder.record(row(1));
    expect(performance.now() - t0).toBeLessThan(50);
    expect(recorder.pending).toBe(2);
    const flushed = recorder.flush();
    await tick();
    inserts[1].resolve();
    await flushed;
    expect(recorder.pending).toBe(0);
  });

  it('not durable (ATP_DURABLE_RECORDS=false): record resolves at once, rows wait for the batch', async () => {
    const { repo, inserts } = fakeRepository();
    const recorder = new UsageRecorder(repo, config(false));
    await recorder.record(row(0));
    expect(inserts).toHaveLength(0);
    expect(recorder.pending).toBe(1);
  });

  it(`is a bounded buffer: at ${USAGE_BUFFER_LIMIT} queued rows BufferPressure reports it full (new requests get 503)`, async () => {
    const { repo } = fakeRepository();
    const pressure = new BufferPressure();
    const recorder = new UsageRecorder(repo, config(false), pressure);
    for (let i = 0; i < USAGE_BUFFER_LIMIT - 1; i++) void recorder.record(row(i));
    expect(pressure.full()).toBeNull();
    void recorder.record(row(USAGE_BUFFER_LIMIT));
    expect(pressure.full()).toMatchObject({ name: 'usage_rows', limit: USAGE_BUFFER_LIMIT });
    pressure.onModuleDestroy();
  });
});
