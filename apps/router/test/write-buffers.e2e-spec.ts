import { getRepositoryToken } from '@nestjs/typeorm';
import request from 'supertest';
import type { Repository } from 'typeorm';
import { AuditEventEntity } from '@app/audit';
import { shutdownNotice } from '@app/common';
import { BufferPressure } from '@app/observability';
import { bootApp, type BootedApp, createTestEnv, SERVICES_LABEL, type TestEnv } from '@app/testing';
import { ChaosUpstream } from '../../../test/chaos/chaos-harness';
import { AppModule } from '../src/app.module';
import { UsageRecordEntity } from '../src/usage/usage-record.entity';
import { tenantWithKey } from './governance-helpers';

/**
 * Issue 16, in process: a call's usage row and audit event are committed before its last byte
 * (defect 6), a write buffer at its bound sheds new requests with 503 (defect 5), and a call still
 * running when the shutdown grace runs out ends with a retryable error event, billed (defect 3).
 */
describe(`router write buffers, durability and the shutdown notice (${SERVICES_LABEL})`, () => {
  const upstream = new ChaosUpstream();
  let testEnv: TestEnv;
  let booted: BootedApp;
  let key: string;
  let usage: Repository<UsageRecordEntity>;
  let audit: Repository<AuditEventEntity>;

  beforeAll(async () => {
    await upstream.start();
    testEnv = await createTestEnv({ OPENAI_API_KEY: 'sk-fake', OPENAI_BASE_URL: upstream.baseUrl });
    booted = await bootApp('router', AppModule, testEnv.env);
    key = (await tenantWithKey(booted)).key;
    usage = booted.app.get(getRepositoryToken(UsageRecordEntity));
    audit = booted.app.get(getRepositoryToken(AuditEventEntity));
  });
  afterAll(async () => {
    shutdownNotice.reset();
    await booted?.close();
    await upstream.stop();
    await testEnv?.cleanup();
  });

  const chat = (id: string, extra: Record<string, unknown> = {}) =>
    request(booted.url)
      .post('/v1/chat/completions')
      .set('authorization', `Bearer ${key}`)
      .set('x-request-id', id)
      .send({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], ...extra });

  const recorded = async (id: string) => ({
    usage: await usage.countBy({ requestId: id }),
    audit: await audit.countBy({ request_id: id, action: 'chat.completion' }),
  });

  it('JSON and streamed: the usage row and audit event are committed when the answer arrives', async () => {
    // Before: written by a background loop every 250–500 ms after the answer (a crash lost them).
    const ids = Array.from({ length: 12 }, (_, i) => `durable-${Date.now()}-${i}`);
    const answers = await Promise.all(ids.map((id, i) => chat(id, i % 2 ? { stream: true } : {})));
    for (const res of answers) expect(res.status).toBe(200);
    for (const [i, id] of ids.entries()) {
      if (i % 2) expect(answers[i].text).toContain('data: [DONE]');
      expect(await recorded(id)).toEqual({ usage: 1, audit: 1 });
    }
  });

  it('a write buffer at its bound: new /v1 requests get 503 write_buffer_full (envelope, Retry-After), ops endpoints stay up, metrics say why', async () => {
    let depth = 10;
    booted.app.get(BufferPressure).register({ name: 'test_rows', limit: 10, depth: () => depth });
    const res = await chat(`shed-${Date.now()}`);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body).toEqual({
      error: {
        message: expect.stringContaining('10 test rows are waiting'),
        type: 'service_unavailable',
        code: 'write_buffer_full',
        param: null,
      },
    });
    expect((await request(booted.url).get('/health')).status).toBe(200);
    const metrics = (await request(booted.url).get('/metrics')).text;
    expect(metrics).toMatch(/atp_buffer_depth\{buffer="test_rows"\} 10/);
    expect(metrics).toMatch(/atp_buffer_limit\{buffer="usage_rows"\} 20000/);
    expect(metrics).toMatch(/atp_buffer_limit\{buffer="audit_events"\} 10000/);
    expect(metrics).toMatch(/atp_buffer_shed_total\{buffer="test_rows"\} [1-9]/);
    depth = 9;
    expect((await chat(`after-shed-${Date.now()}`)).status).toBe(200);
  });

  it('the shutdown notice ends a running stream with a retryable server_shutting_down event, billed from the relayed text', async () => {
    const id = `shutdown-${Date.now()}`;
    const pending = chat(id, { stream: true, messages: [{ role: 'user', content: 'slow:10000' }] });
    setTimeout(() => shutdownNotice.fire(), 1_200);
    const res = await pending;
    shutdownNotice.reset();
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('[DONE]');
    const last = res.text.trim().split('\n\n').pop()!;
    expect(JSON.parse(last.slice('data: '.length))).toEqual({
      error: {
        message: expect.stringContaining('shutting down'),
        type: 'service_unavailable',
        code: 'server_shutting_down',
        param: null,
      },
    });
    const row = await usage.findOneByOrFail({ requestId: id });
    // ~10 ticks of "tick tock " relayed = ~100 characters, ~4 characters a token; no vendor count.
    expect(row).toMatchObject({ status: 503, outcome: 'shutdown', estimated: true, stream: true });
    expect(row.completionTokens).toBeGreaterThanOrEqual(15);
    expect(row.completionTokens).toBeLessThan(60);
    expect(await audit.countBy({ request_id: id, action: 'chat.completion', status_code: 503 })).toBe(1);
  });
});
