import type { Caller } from '@app/auth';
import { makeUsage } from '@app/providers';
import type { AdmissionService, AdmissionTicket } from '../limits/admission.service';
import type { CallAuditEntry, CallAuditService } from '../usage/call-audit.service';
import type { UsageInput, UsageRecorder } from '../usage/usage-recorder';
import type { Door } from './call';
import { type CallEnd, Ledger, type LedgerEntry } from './ledger';
import { admissionTicket, caller, catalogModel } from './pipeline.fakes';
import { pipelineMetrics } from './pipeline.metrics';

const NOW = 1_700_000_000_000;
const model = catalogModel({ id: 'gpt-x', provider: 'openai' });

/** A promise resolved from outside, to hold a durable write open. */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * The ledger over fakes that log, in one array, each settle, usage row and audit event in the
 * order they happen. `writes` (durable mode) hold the row's and the event's commit open.
 */
function setup(durable = false) {
  const log: string[] = [];
  const rows: UsageInput[] = [];
  const audits: CallAuditEntry[] = [];
  const writes = { row: deferred(), audit: deferred() };
  const admission = {
    settle: (t: AdmissionTicket, tokens: number, costUsd: number) =>
      log.push(`settle ${t.estimatedTokens}→${tokens} $${costUsd}`),
  } as unknown as AdmissionService;
  const usage = {
    durable,
    record: (row: UsageInput) => {
      log.push('usage row');
      rows.push(row);
      return durable ? writes.row.promise : Promise.resolve();
    },
  } as unknown as UsageRecorder;
  const audit = {
    call: (e: CallAuditEntry, isDurable: boolean) => {
      log.push(`audit ${e.action} durable=${isDurable}`);
      audits.push(e);
      // pending until the spec commits it, durable or not: only durable mode may wait for it
      return writes.audit.promise;
    },
  } as unknown as CallAuditService;
  return { ledger: new Ledger(admission, usage, audit), log, rows, audits, writes };
}

function entry(door: Door = 'chat', ticket: AdmissionTicket | null = admissionTicket()): LedgerEntry {
  return { door, caller, started: NOW - 250, route: 'fast', ticket };
}

const answered: CallEnd = {
  status: 200,
  outcome: 'ok',
  model,
  usage: makeUsage(12, 30),
  costUsd: 0.0042,
  attempts: 2,
  stream: true,
  ttftMs: 80,
  cached: false,
};

/** atp_calls_total as [door, outcome, count] rows. */
async function calls() {
  const { values } = await pipelineMetrics.calls.get();
  return values.map((v) => [v.labels.door, v.labels.outcome, v.value]);
}

/** Whether a promise has settled once pending microtasks and an event-loop turn ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('Ledger', () => {
  beforeEach(() => {
    jest.spyOn(Date, 'now').mockReturnValue(NOW);
    pipelineMetrics.calls.reset();
    pipelineMetrics.tokens.reset();
    pipelineMetrics.cost.reset();
  });
  afterEach(() => jest.restoreAllMocks());

  it('an answered call: settled at the real tokens and cost, then its usage row, then its audit event', async () => {
    const { ledger, log, rows, audits } = setup();
    await ledger.close(entry(), answered);
    expect(log).toEqual(['settle 7→42 $0.0042', 'usage row', 'audit chat.completion durable=false']);
    expect(rows).toEqual([
      {
        tenantId: 'tenant-1',
        apiKeyId: 'key-1',
        subject: 'api_key:key-1',
        endpoint: 'chat',
        route: 'fast',
        provider: 'openai',
        model: 'gpt-x',
        promptTokens: 12,
        completionTokens: 30,
        totalTokens: 42,
        costUsd: 0.0042,
        latencyMs: 250,
        ttftMs: 80,
        status: 200,
        outcome: 'ok',
        cached: false,
        estimated: false,
        stream: true,
        attempts: 2,
        requestId: 'req-1',
      },
    ]);
    expect(audits).toEqual([
      {
        caller,
        action: 'chat.completion',
        status: 200,
        route: 'fast',
        provider: 'openai',
        model: 'gpt-x',
        promptTokens: 12,
        completionTokens: 30,
        costUsd: 0.0042,
        latencyMs: 250,
      },
    ]);
  });

  it('counts the call by door and outcome, its tokens by direction and its cost', async () => {
    const { ledger } = setup();
    await ledger.close(entry(), answered);
    expect(await calls()).toEqual([['chat', 'ok', 1]]);
    const tokens = (await pipelineMetrics.tokens.get()).values.map((v) => [v.labels.direction, v.value]);
    expect(tokens).toEqual([
      ['input', 12],
      ['output', 30],
    ]);
    expect((await pipelineMetrics.cost.get()).values[0].value).toBe(0.0042);
  });

  it('closes a call exactly once: a second close records nothing', async () => {
    const { ledger, log } = setup();
    const call = entry();
    await ledger.close(call, answered);
    await ledger.close(call, { ...answered, status: 499, outcome: 'client_closed' });
    expect(log).toEqual(['settle 7→42 $0.0042', 'usage row', 'audit chat.completion durable=false']);
    expect(await calls()).toEqual([['chat', 'ok', 1]]);
  });

  it('a call that reached no model (refused) has no usage row and nothing to settle: only its audit event', async () => {
    const { ledger, log, audits } = setup();
    const refused: CallEnd = {
      ...answered,
      status: 429,
      outcome: 'refused',
      model: null,
      usage: makeUsage(0, 0),
    };
    await ledger.close(entry('chat', null), { ...refused, costUsd: 0 });
    expect(log).toEqual(['audit chat.completion durable=false']);
    expect(audits[0]).toMatchObject({ status: 429, provider: null, model: null, promptTokens: 0 });
    expect(await calls()).toEqual([['chat', 'refused', 1]]);
  });

  it('an estimated usage is marked on the row; a token caller has no API key id', async () => {
    const { ledger, rows } = setup();
    const user: Caller = {
      ...caller,
      type: 'oidc',
      subject: 'user-7',
      credentialId: 'jti-1',
      requestId: null,
    };
    await ledger.close({ ...entry(), caller: user }, { ...answered, usage: makeUsage(12, 3, true) });
    expect(rows[0]).toMatchObject({ apiKeyId: null, subject: 'user-7', estimated: true, requestId: '' });
  });

  it('each door is audited under its own action and recorded under its endpoint', async () => {
    const { ledger, rows, audits } = setup();
    for (const door of ['chat', 'embeddings', 'responses', 'messages'] as const) {
      await ledger.close(entry(door), answered);
    }
    expect(audits.map((a) => a.action)).toEqual([
      'chat.completion',
      'embeddings',
      'responses.create',
      'messages.create',
    ]);
    expect(rows.map((r) => r.endpoint)).toEqual(['chat', 'embeddings', 'responses', 'messages']);
  });

  it('durable records: close resolves once both the usage row and the audit event are committed', async () => {
    const { ledger, log, writes } = setup(true);
    const closing = ledger.close(entry(), answered);
    expect(log).toEqual(['settle 7→42 $0.0042', 'usage row', 'audit chat.completion durable=true']);
    writes.row.resolve();
    expect(await settled(closing)).toBe(false);
    writes.audit.resolve();
    expect(await settled(closing)).toBe(true);
  });

  it('durable records of a refused call wait for its audit event alone', async () => {
    const { ledger, writes } = setup(true);
    const refused: CallEnd = { ...answered, status: 403, outcome: 'refused', model: null, costUsd: 0 };
    const closing = ledger.close(entry('chat', null), refused);
    expect(await settled(closing)).toBe(false);
    writes.audit.resolve();
    expect(await settled(closing)).toBe(true);
  });

  it('without durable records close does not wait for the audit event (the row resolves at once)', async () => {
    const { ledger } = setup(false);
    await expect(settled(ledger.close(entry(), answered))).resolves.toBe(true);
  });
});
