import OpenAI from 'openai';
import request from 'supertest';
import { bootApp, type BootedApp, createTestEnv, SERVICES_LABEL, type TestEnv } from '@app/testing';
import { AppModule } from '../src/app.module';
import { type FakeUpstream, startFakeUpstream, tenantWithKey, upstreamEnv } from './governance-helpers';

const VENDORS = [
  { vendor: 'openai', model: 'gpt-4o-mini', overloaded: 503 },
  { vendor: 'anthropic', model: 'claude-3-5-haiku-latest', overloaded: 529 },
  { vendor: 'google', model: 'gemini-2.0-flash', overloaded: 503 },
] as const;

/**
 * Upstream faults through the router, for each adapter: retries, fallbacks and errors as
 * documented, no hang (short timeouts), never a 500, and a usage row for every request.
 */
describe(`router under upstream faults (${SERVICES_LABEL})`, () => {
  let upstream: FakeUpstream;
  let testEnv: TestEnv;
  let booted: BootedApp;
  let key: string;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    testEnv = await createTestEnv({
      ...upstreamEnv(upstream),
      ATP_UPSTREAM_TIMEOUT_MS: '400',
      ATP_REQUEST_DEADLINE_MS: '3000',
      ATP_RETRIES_PER_CANDIDATE: '1',
    });
    booted = await bootApp('router', AppModule, testEnv.env);
    key = (await tenantWithKey(booted)).key;
    client = new OpenAI({ apiKey: key, baseURL: `${booted.url}/v1`, maxRetries: 0, timeout: 10_000 });
  });
  beforeEach(() => upstream.reset());
  afterAll(async () => {
    await booted?.close();
    await upstream?.close();
    await testEnv?.cleanup();
  });

  async function usageRequests(): Promise<number> {
    const res = await request(booted.url)
      .get('/v1/usage?group_by=model')
      .set('authorization', `Bearer ${key}`)
      .expect(200);
    return res.body.totals.requests as number;
  }

  const chat = (model: string, extra: Record<string, unknown> = {}) =>
    request(booted.url)
      .post('/v1/chat/completions')
      .set('authorization', `Bearer ${key}`)
      .send({ model, messages: [{ role: 'user', content: 'hi' }], ...extra });

  describe.each(VENDORS)('$vendor adapter', ({ model, overloaded }) => {
    it.each([
      ['429 with Retry-After: 1', { type: 'status', status: 429, retryAfter: '1' }],
      ['500', { type: 'status', status: 500 }],
      [`${overloaded} overloaded`, { type: 'status', status: overloaded }],
      ['connection reset', { type: 'reset' }],
      ['malformed JSON', { type: 'malformed-json' }],
    ] as const)('%s once → retried on the same model, 200', async (_name, fault) => {
      const before = await usageRequests();
      upstream.enqueue({ fault });
      const started = Date.now();
      const res = await chat(model);
      expect(res.status).toBe(200);
      expect(res.headers['x-atp-attempts']).toBe('2');
      if (fault.type === 'status' && fault.status === 429)
        expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      expect(await usageRequests()).toBe(before + 1);
    });

    it('always failing → 502 in the envelope after retrying, and a usage row', async () => {
      const before = await usageRequests();
      upstream.setBehaviour({ fault: { type: 'status', status: 500 } });
      const res = await chat(model);
      expect(res.status).toBe(502);
      expect(res.body.error.code).toBe('upstream_error');
      expect(res.headers['x-atp-attempts']).toBe('2');
      expect(await usageRequests()).toBe(before + 1);
    });

    it('timeout before headers → 504 within the deadline, no hang', async () => {
      upstream.setBehaviour({ fault: { type: 'stall-before-headers' } });
      const started = Date.now();
      const res = await chat(model);
      expect(res.status).toBe(504);
      expect(res.body.error.code).toBe('upstream_timeout');
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it.each([
      ['stall mid-stream', { type: 'stall-mid-stream', afterChunks: 2 }],
      ['SSE cut without terminator', { type: 'cut-stream', afterChunks: 2 }],
      ['reset mid-stream', { type: 'reset-mid-stream', afterChunks: 2 }],
    ] as const)(
      '%s after the first byte → the stream ends with an error event, usage recorded',
      async (_n, fault) => {
        const before = await usageRequests();
        upstream.setBehaviour({ fault, text: 'one two three four five six' });
        const res = await chat(model, { stream: true });
        expect(res.status).toBe(200);
        expect(res.text).toMatch(/"error":\{"message":"Stream interrupted/);
        expect(res.text).not.toContain('data: [DONE]');
        expect(await usageRequests()).toBe(before + 1);
      },
    );
  });

  it('an upstream 400 is not retried and reaches the official SDK as BadRequestError', async () => {
    upstream.setBehaviour({ fault: { type: 'status', status: 400 } });
    await expect(
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });
});
