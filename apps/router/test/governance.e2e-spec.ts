import http from 'node:http';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AuditService } from '@app/audit';
import { bootApp, type BootedApp, createTestEnv, SERVICES_LABEL, type TestEnv } from '@app/testing';
import { AppModule } from '../src/app.module';
import { type DoorCase, DOOR_CASES } from './doors/door-cases';
import { AdmissionService } from '../src/limits/admission.service';
import { UsageRecorder } from '../src/usage/usage-recorder';
import {
  type FakeUpstream,
  startFakeUpstream,
  tenantWithKey,
  writeRoutingConfig,
} from './governance-helpers';

const CARD = '4111 1111 1111 1111';
const EMAIL = 'jane.doe@example.com';

describe(`router governance: limits, budgets, allow-lists, PII, audit (${SERVICES_LABEL})`, () => {
  let upstream: FakeUpstream;
  let testEnv: TestEnv;
  let booted: BootedApp;

  const chat = (key: string, body: Record<string, unknown>) =>
    request(booted.url)
      .post('/v1/chat/completions')
      .set('authorization', `Bearer ${key}`)
      .send({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], ...body });

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    testEnv = await createTestEnv({
      OPENAI_API_KEY: 'sk-fake-openai',
      OPENAI_BASE_URL: upstream.openaiBaseUrl,
    });
    testEnv.env.ATP_ROUTING_CONFIG = writeRoutingConfig(testEnv.dataDir);
    booted = await bootApp('router', AppModule, testEnv.env);
  });
  beforeEach(() => upstream.reset());
  afterAll(async () => {
    await booted?.close();
    await upstream?.close();
    await testEnv?.cleanup();
  });

  /** A model call through `door`, as its clients send one. */
  const call = (
    door: DoorCase,
    key: string,
    opts: { model?: string; prompt?: string; maxTokens?: number; stream?: boolean } = {},
  ) => {
    const req = request(booted.url).post(door.path).set('authorization', `Bearer ${key}`);
    for (const [name, value] of Object.entries(door.headers ?? {})) req.set(name, value);
    return req.send(door.body(opts.model ?? 'gpt-4o-mini', opts.prompt ?? 'hi', opts));
  };

  /**
   * A refusal's ATP code, where the door's error shape carries one; its message on every door
   * (the same text, so the kind of refusal is told apart on doors without codes too).
   */
  const expectRefusal = (door: DoorCase, res: request.Response, code: string, message: RegExp) => {
    const reported = door.errorCode(res.body);
    if (reported !== undefined) expect(reported).toBe(code);
    expect(res.body.error.message).toMatch(message);
  };

  describe.each(DOOR_CASES)('limits, budgets and tenant isolation through the $door door ($path)', (door) => {
    it('requests per minute per key: x-ratelimit headers, then 429 with Retry-After and the error', async () => {
      const { key } = await tenantWithKey(booted, {}, { rpm: 3 });
      for (let n = 0; n < 3; n++) {
        const ok = await call(door, key).expect(200);
        expect(door.text(ok.body)).toBe('Hello from the fake upstream.');
        expect(ok.headers['x-ratelimit-limit-requests']).toBe('3');
        expect(ok.headers['x-ratelimit-remaining-requests']).toBe(String(2 - n));
        expect(ok.headers['x-ratelimit-reset-requests']).toMatch(/^(\d+m)?\d+(\.\d+)?s$|^\d+ms$/);
      }
      const limited = await call(door, key).expect(429);
      expect(limited.body.error).toEqual(expect.objectContaining({ type: 'rate_limit_error' }));
      expectRefusal(door, limited, 'rate_limit_exceeded', /requests per minute/);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(limited.headers['x-ratelimit-remaining-requests']).toBe('0');
      expect(upstream.requests).toHaveLength(3);
    });

    it('tokens per minute charge the estimate (prompt + max_tokens) up front and settle to the real usage', async () => {
      const { key } = await tenantWithKey(booted, { tpm: 1000 });
      upstream.setBehaviour({ usage: { prompt: 10, completion: 5 } });
      const first = await call(door, key, { maxTokens: 900 }).expect(200);
      // estimate: 4 framing + 1 token of "hi" + 900 = 905 charged up front
      expect(first.headers['x-ratelimit-remaining-tokens']).toBe('95');
      // settled to 15 real tokens: 985 left, so a request estimated at 905 fits again
      await waitFor(async () => (await call(door, key, { maxTokens: 900 })).status === 200);
      const tooBig = await call(door, key, { maxTokens: 1000 }).expect(429);
      expectRefusal(door, tooBig, 'tokens_limit_exceeded', /tokens per minute/);
      expect(tooBig.headers['x-ratelimit-limit-tokens']).toBe('1000');
    });

    it('concurrent requests per key: the excess is refused while the slots are taken', async () => {
      const { key } = await tenantWithKey(booted, {}, { concurrency: 2 });
      upstream.setBehaviour({ latencyMs: 800 });
      const results = await Promise.all(Array.from({ length: 5 }, () => call(door, key)));
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 200, 429, 429, 429]);
      expectRefusal(
        door,
        results.find((r) => r.status === 429)!,
        'concurrency_limit_exceeded',
        /concurrent requests/,
      );
      upstream.setBehaviour({});
      await call(door, key).expect(200); // slots were released
    });

    it('budget: 200 concurrent calls reserving $0.02 and costing $0.01 never overspend $1.00', async () => {
      const { tenantId, key } = await tenantWithKey(booted, { monthlyBudgetUsd: 1 });
      upstream.setBehaviour({ latencyMs: 30, usage: { prompt: 5, completion: 1 } });
      const results = await Promise.all(
        Array.from({ length: 200 }, () => call(door, key, { model: 'budget-model' })),
      );
      const ok = results.filter((r) => r.status === 200);
      const refused = results.filter((r) => r.status !== 200);
      for (const r of refused) {
        expect(r.status).toBe(429);
        expectRefusal(door, r, 'budget_exceeded', /monthly budget/);
        expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      }
      for (const r of ok) expect(r.headers['x-atp-cost-usd']).toBe('0.01000000');
      // at least the reservable amount (50 × $0.02) got through, never more than $1.00 worth
      expect(ok.length).toBeGreaterThanOrEqual(50);
      expect(ok.length).toBeLessThanOrEqual(100);
      expect(refused.length).toBeGreaterThan(0);
      await booted.app.get(UsageRecorder).flush();
      const usage = await request(booted.url)
        .get('/v1/usage?group_by=model')
        .set('authorization', `Bearer ${key}`)
        .expect(200);
      expect(usage.body.totals.cost_usd).toBeLessThanOrEqual(1);
      expect(usage.body.totals.cost_usd).toBeCloseTo(ok.length * 0.01, 8);
      const status = await waitForValue(
        () => booted.app.get(AdmissionService).budgetStatus(tenantId),
        (s) => s?.reservedUsd === 0,
      );
      expect(status).toEqual({ spentUsd: expect.closeTo(ok.length * 0.01, 8), reservedUsd: 0 });
      expect(upstream.requests).toHaveLength(ok.length);
    });

    it('a stream cancelled mid-way is settled at its real (delivered) usage and releases its reservation', async () => {
      const { tenantId, key } = await tenantWithKey(booted, { monthlyBudgetUsd: 10 });
      upstream.setBehaviour({
        chunkDelayMs: 150,
        text: 'one two three four five six seven eight nine ten eleven twelve',
      });
      const controller = new AbortController();
      const res = await fetch(`${booted.url}${door.path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...door.headers },
        body: JSON.stringify(door.body('stream-model', 'count', { stream: true })),
        signal: controller.signal,
      });
      // Cancelled as soon as the second word arrived (the third chunk of a chat stream).
      let seen = '';
      try {
        const reader = res.body!.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          seen += Buffer.from(value).toString('utf8');
          if (seen.includes('two')) {
            controller.abort();
            break;
          }
        }
      } catch {
        // an abort may surface as a rejected read: both are a cancel
      }
      expect(seen).toContain('two');
      expect(seen).not.toContain('three');
      await waitFor(async () => upstream.requests[0]?.closedEarly === true);
      const admission = booted.app.get(AdmissionService);
      const status = await waitForValue(
        () => admission.budgetStatus(tenantId),
        (s) => !!s && s.reservedUsd === 0 && s.spentUsd > 0,
      );
      expect(status!.reservedUsd).toBe(0);
      // billed for what was delivered before the cancel: a few tokens at $0.001 — less than the
      // whole 12-word answer ($0.012), far less than the $0.10 reserved
      expect(status!.spentUsd).toBeGreaterThan(0);
      expect(status!.spentUsd).toBeLessThan(0.012);
      await booted.app.get(UsageRecorder).flush();
      const usage = await request(booted.url)
        .get('/v1/usage?group_by=model')
        .set('authorization', `Bearer ${key}`)
        .expect(200);
      expect(usage.body.totals.cost_usd).toBeCloseTo(status!.spentUsd, 8);
    });

    it('SSE responses carry the rate-limit and PII headers too', async () => {
      const { key } = await tenantWithKey(booted, { rpm: 10, tpm: 100_000 });
      const res = await fetch(`${booted.url}${door.path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...door.headers },
        body: JSON.stringify(door.body('gpt-4o-mini', 'hi', { stream: true })),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      expect(res.headers.get('x-ratelimit-remaining-requests')).toBe('9');
      expect(res.headers.get('x-ratelimit-limit-tokens')).toBe('100000');
      expect(res.headers.get('x-atp-pii')).toBe('off');
      // A complete stream: the door's last event when the table names it, else the answer's last word.
      expect(await res.text()).toContain(door.streamEnd ?? 'upstream.');
    });

    it("tenant isolation: one tenant's exhausted limit, cached answers and usage never reach another", async () => {
      const a = await tenantWithKey(booted, { rpm: 1 });
      const b = await tenantWithKey(booted, { rpm: 1 });
      await call(door, a.key).expect(200);
      await call(door, a.key).expect(429);
      await call(door, b.key).expect(200);

      const c = await tenantWithKey(booted);
      const d = await tenantWithKey(booted);
      const cached = (key: string) => call(door, key, { prompt: 'cache me' }).set('x-atp-cache-ttl', '60');
      upstream.setBehaviour({ text: 'answer for C' });
      expect((await cached(c.key).expect(200)).headers['x-atp-cache']).toBe('miss');
      const hit = await cached(c.key).expect(200);
      expect(hit.headers['x-atp-cache']).toBe('hit');
      expect(door.text(hit.body)).toBe('answer for C');
      upstream.setBehaviour({ text: 'answer for D' });
      const other = await cached(d.key).expect(200);
      expect(other.headers['x-atp-cache']).toBe('miss');
      expect(door.text(other.body)).toBe('answer for D');

      await booted.app.get(UsageRecorder).flush();
      const usageOf = async (key: string) =>
        (
          await request(booted.url)
            .get('/v1/usage?group_by=model')
            .set('authorization', `Bearer ${key}`)
            .expect(200)
        ).body.totals.requests;
      expect(await usageOf(b.key)).toBe(1);
      expect(await usageOf(d.key)).toBe(1);
    });
  });

  it('model allow-list: 403 outside it, /v1/models lists only allowed ones (tenant and key lists both apply)', async () => {
    const { key } = await tenantWithKey(
      booted,
      { allowedModels: ['gpt-4o-mini', 'gpt-4o', 'cheap'] },
      { allowedModels: ['gpt-4o-mini', 'cheap'] },
    );
    await chat(key, { model: 'gpt-4o-mini' }).expect(200);
    const denied = await chat(key, { model: 'gpt-4o' }).expect(403);
    expect(denied.body.error).toEqual(
      expect.objectContaining({ type: 'permission_error', code: 'model_not_allowed', param: 'model' }),
    );
    expect(denied.body.error.message).toContain('gpt-4o');
    await chat(key, { model: 'best' }).expect(403);
    const models = await request(booted.url)
      .get('/v1/models')
      .set('authorization', `Bearer ${key}`)
      .expect(200);
    expect(models.body.data.map((m: { id: string }) => m.id).sort()).toEqual(['cheap', 'gpt-4o-mini']);
    const emb = await request(booted.url)
      .post('/v1/embeddings')
      .set('authorization', `Bearer ${key}`)
      .send({ model: 'text-embedding-3-small', input: 'x' });
    expect(emb.status).toBe(403);
    expect(upstream.requests.map((r) => r.body.model)).toEqual(['gpt-4o-mini']);
  });

  it('PII redact: neither the email nor the card reaches the upstream; block: 422 and nothing is sent', async () => {
    const redact = await tenantWithKey(booted, { piiMode: 'redact' });
    const prompt = `Contact ${EMAIL} and charge card ${CARD}`;
    const ok = await chat(redact.key, { messages: [{ role: 'user', content: prompt }] }).expect(200);
    expect(ok.headers['x-atp-pii']).toBe('redacted');
    expect(upstream.requests).toHaveLength(1);
    const sent = JSON.stringify(upstream.requests[0].body);
    expect(sent).not.toContain(EMAIL);
    expect(sent).not.toContain(CARD);
    expect(sent).not.toContain(CARD.replace(/ /g, ''));
    expect(sent).toContain('<EMAIL>');

    const block = await tenantWithKey(booted, { piiMode: 'block' });
    upstream.reset();
    const refused = await chat(block.key, { messages: [{ role: 'user', content: prompt }] }).expect(422);
    expect(refused.body.error).toEqual(
      expect.objectContaining({ type: 'policy_error', code: 'pii_blocked' }),
    );
    expect(refused.headers['x-atp-pii']).toBe('blocked');
    const clean = await chat(block.key, { messages: [{ role: 'user', content: 'nothing personal' }] }).expect(
      200,
    );
    expect(clean.headers['x-atp-pii']).toBe('none');
    expect(upstream.requests).toHaveLength(1);
    expect(JSON.stringify(upstream.requests[0].body)).toContain('nothing personal');

    const audit = booted.app.get(AuditService);
    await audit.flush();
    const detected = (await audit.list(redact.tenantId, { action: 'pii.detected' })).items;
    expect(detected).toHaveLength(1);
    expect(detected[0].pii_summary).toEqual([
      { type: 'CREDIT_CARD', count: 1 },
      { type: 'EMAIL', count: 1 },
    ]);
    const blocked = (await audit.list(block.tenantId, { action: 'pii.blocked' })).items;
    expect(blocked).toHaveLength(1);
    expect(blocked[0].status_code).toBe(422);
    expect(JSON.stringify([...detected, ...blocked])).not.toContain('jane');
  });

  it('audits one chat.completion / embeddings event per request, with no prompt or completion text', async () => {
    const { tenantId, key } = await tenantWithKey(booted, {}, { rpm: 2 });
    upstream.setBehaviour({ usage: { prompt: 7, completion: 3 } });
    await chat(key, { messages: [{ role: 'user', content: 'secret recipe' }] }).expect(200);
    await request(booted.url)
      .post('/v1/embeddings')
      .set('authorization', `Bearer ${key}`)
      .send({ model: 'text-embedding-3-small', input: 'secret recipe' })
      .expect(200);
    await chat(key, {}).expect(429);
    const audit = booted.app.get(AuditService);
    await audit.flush();
    const calls = (await audit.list(tenantId, { action: 'chat.completion' })).items;
    expect(calls.map((c) => c.outcome).sort()).toEqual(['denied', 'success']);
    const ok = calls.find((c) => c.outcome === 'success')!;
    expect(ok.resource_id).toContain('provider=openai');
    expect(ok.resource_id).toContain('model=gpt-4o-mini');
    expect(ok.resource_id).toContain('prompt_tokens=7');
    expect(ok.resource_id).toContain('completion_tokens=3');
    expect(ok.resource_id).toMatch(/cost_usd=0\.\d{8}/);
    expect(ok.resource_id).toMatch(/latency_ms=\d+/);
    expect(ok.actor_type).toBe('api_key');
    expect(calls.find((c) => c.outcome === 'denied')!.status_code).toBe(429);
    const emb = (await audit.list(tenantId, { action: 'embeddings' })).items;
    expect(emb).toHaveLength(1);
    const all = JSON.stringify((await audit.list(tenantId)).items);
    expect(all).not.toContain('secret recipe');
    expect(all).not.toContain('Hello from the fake upstream');
  });

  it('embeddings: a client that hangs up aborts the upstream call, settles, and leaves a 499 usage row; an upstream failure leaves its row too', async () => {
    const { tenantId, key } = await tenantWithKey(booted, { monthlyBudgetUsd: 10 });
    upstream.setBehaviour({ latencyMs: 3_000 });
    const sent = Date.now();
    const req = http.request(`${booted.url}/v1/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    });
    req.on('error', () => undefined);
    req.end(JSON.stringify({ model: 'text-embedding-3-small', input: 'hang up on me' }));
    await waitFor(async () => upstream.requests.length === 1);
    req.destroy();
    await waitFor(async () => upstream.requests[0].closedEarly);
    expect(Date.now() - sent).toBeLessThan(2_500); // aborted, not waited out
    const admission = booted.app.get(AdmissionService);
    const budget = await waitForValue(
      () => admission.budgetStatus(tenantId),
      (s) => s?.reservedUsd === 0,
    );
    expect(budget).toEqual({ spentUsd: 0, reservedUsd: 0 });

    upstream.setBehaviour({ fault: { type: 'status', status: 400, body: { error: { message: 'bad' } } } });
    await request(booted.url)
      .post('/v1/embeddings')
      .set('authorization', `Bearer ${key}`)
      .send({ model: 'text-embedding-3-small', input: 'x' })
      .expect(400);
    await booted.app.get(UsageRecorder).flush();
    const rows = await waitForValue(
      () =>
        booted.app
          .get(DataSource)
          .query(
            `SELECT status, outcome, cost_usd FROM usage_records WHERE tenant_id = ${booted.app.get(DataSource).options.type === 'postgres' ? '$1' : '?'} AND endpoint = 'embeddings' ORDER BY status`,
            [tenantId],
          ) as Promise<{ status: number; outcome: string; cost_usd: number }[]>,
      (r) => r.length === 2,
    );
    expect(rows.map((r) => [Number(r.status), r.outcome, Number(r.cost_usd)])).toEqual([
      [400, 'error', 0],
      [499, 'client_closed', 0],
    ]);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitForValue<T>(get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}
