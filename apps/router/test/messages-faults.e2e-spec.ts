import Anthropic from '@anthropic-ai/sdk';
import request from 'supertest';
import { type FakeBehaviour } from '@app/providers/testing';
import { SERVICES_LABEL } from '@app/testing';
import { UsageRecorder } from '../src/usage/usage-recorder';
import { useRouterOnFakes } from './doors/router-on-fakes';
import { tenantWithKey } from './governance-helpers';

/** SSE text → [event, data] pairs. */
function events(text: string): [string, { type: string; error?: { type: string; message: string } }][] {
  return text
    .split('\n\n')
    .filter((frame) => frame.startsWith('event: '))
    .map((frame) => {
      const [head, data] = frame.split('\n');
      return [head.slice(7), JSON.parse(data.slice(6))];
    });
}

/**
 * Upstream faults through the Messages door: before the first byte a failing Claude falls back
 * to the next candidate of the route; after it the stream ends with Anthropic's `error` event and
 * the usage so far is recorded; malformed input is a 4xx in Anthropic's shape, never a 500.
 */
describe(`/v1/messages under upstream faults (${SERVICES_LABEL})`, () => {
  const s = useRouterOnFakes({
    env: {
      ATP_UPSTREAM_TIMEOUT_MS: '400',
      ATP_REQUEST_DEADLINE_MS: '3000',
      ATP_RETRIES_PER_CANDIDATE: '0',
      ATP_BODY_LIMIT_BYTES: String(256 * 1024),
    },
    routing: 'routes:\n  agent:\n    strategy: ordered\n    candidates: [claude-sonnet-4-5, gpt-4o-mini]\n',
  });
  let key: string;
  beforeAll(async () => {
    key = (await tenantWithKey(s.booted)).key;
  });

  /** The tenant's recorded calls (usage rows), as GET /v1/usage counts them. */
  async function usageRows(): Promise<number> {
    await s.booted.app.get(UsageRecorder).flush();
    const res = await request(s.booted.url).get('/v1/usage?group_by=model').set('x-api-key', key).expect(200);
    return res.body.totals.requests as number;
  }

  const stream = (model: string) =>
    request(s.booted.url)
      .post('/v1/messages')
      .set('x-api-key', key)
      .send({ model, max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hi' }] });

  /** Claude fails as given; every other vendor answers. */
  const claudeFails = (fault: FakeBehaviour['fault']) =>
    s.upstream.setBehaviour((req) => (req.vendor === 'anthropic' ? { fault } : {}));

  it.each([
    ['429', { type: 'status', status: 429 }],
    ['500', { type: 'status', status: 500 }],
    ['529 overloaded', { type: 'status', status: 529 }],
    ['a timeout before the headers', { type: 'stall-before-headers' }],
  ] as const)(
    '%s from Claude before the first byte → the stream comes from the fallback',
    async (_n, fault) => {
      const before = await usageRows();
      claudeFails(fault);
      const res = await stream('agent');
      expect(res.status).toBe(200);
      expect(res.headers['x-atp-provider']).toBe('openai');
      expect(res.headers['x-atp-attempts']).toBe('2');
      const names = events(res.text).map(([name]) => name);
      expect(names[0]).toBe('message_start');
      expect(names.slice(-2)).toEqual(['message_delta', 'message_stop']);
      expect(s.upstream.requests.map((r) => r.vendor)).toEqual(['anthropic', 'openai']);
      expect(await usageRows()).toBe(before + 1);
    },
  );

  it('a JSON (non-streamed) call falls back the same way', async () => {
    claudeFails({ type: 'status', status: 500 });
    const res = await request(s.booted.url)
      .post('/v1/messages')
      .set('x-api-key', key)
      .send({ model: 'agent', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] })
      .expect(200);
    expect(res.body).toMatchObject({ type: 'message', model: 'gpt-4o-mini', stop_reason: 'end_turn' });
  });

  it.each([
    ['SSE cut without message_stop', { type: 'cut-stream', afterChunks: 4 }],
    ['connection reset', { type: 'reset-mid-stream', afterChunks: 4 }],
    ["Anthropic's overloaded error event", { type: 'error-event', afterChunks: 4 }],
  ] as const)(
    '%s after the first byte → an `error` event ends the stream; the usage is recorded',
    async (_n, fault) => {
      const before = await usageRows();
      s.upstream.setBehaviour({ fault, text: 'one two three four five six' });
      const res = await stream('claude-sonnet-4-5');
      expect(res.status).toBe(200);
      const all = events(res.text);
      const [name, data] = all[all.length - 1];
      expect(name).toBe('error');
      expect(data).toEqual({
        type: 'error',
        error: { type: 'api_error', message: expect.stringMatching(/^Stream interrupted/) },
      });
      expect(all.map(([n]) => n)).not.toContain('message_stop');
      expect(all.some(([n]) => n === 'content_block_delta')).toBe(true);
      expect(await usageRows()).toBe(before + 1);
    },
  );

  it('the SDK surfaces a mid-stream cut as an APIError', async () => {
    s.upstream.setBehaviour({ fault: { type: 'cut-stream', afterChunks: 4 }, text: 'one two three four' });
    const client = new Anthropic({ apiKey: key, baseURL: s.booted.url, maxRetries: 0, timeout: 10_000 });
    const err = await client.messages
      .stream({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] })
      .finalMessage()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(String((err as Error).message)).toContain('Stream interrupted');
  });

  it('malformed input is a 4xx in Anthropic shape, never a 500, and reaches no vendor', async () => {
    const bodies: unknown[] = [
      null,
      'text',
      [],
      { model: 42 },
      { model: 'gpt-4o-mini', max_tokens: 'many', messages: [] },
      { model: 'gpt-4o-mini', max_tokens: 8, messages: [{ role: 'system', content: 'x' }] },
      {
        model: 'gpt-4o-mini',
        max_tokens: 8,
        messages: [{ role: 'user', content: [{ type: 'tool_result' }] }],
      },
      {
        model: 'gpt-4o-mini',
        max_tokens: 8,
        messages: [{ role: 'user', content: 'x' }],
        tools: [{ name: '' }],
      },
      {
        model: 'gpt-4o-mini',
        max_tokens: 8,
        messages: [{ role: 'user', content: 'x' }],
        tool_choice: { type: 'tool' },
      },
      {
        model: 'gpt-4o-mini',
        max_tokens: 8,
        messages: [{ role: 'user', content: 'x' }],
        thinking: { type: 'on' },
      },
      {
        model: 'gpt-4o-mini',
        max_tokens: 8,
        messages: [
          {
            role: 'user',
            content: [{ type: 'image', source: { type: 'base64', media_type: 'image/bmp', data: 'x' } }],
          },
        ],
      },
    ];
    for (const body of bodies) {
      const res = await request(s.booted.url)
        .post('/v1/messages')
        .set('x-api-key', key)
        .set('content-type', 'application/json')
        .send(JSON.stringify(body));
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(res.body).toEqual({
        type: 'error',
        error: { type: 'invalid_request_error', message: expect.any(String) },
      });
    }
    const huge = await request(s.booted.url)
      .post('/v1/messages')
      .set('x-api-key', key)
      .send({
        model: 'gpt-4o-mini',
        max_tokens: 8,
        messages: [{ role: 'user', content: 'x'.repeat(300 * 1024) }],
      });
    expect(huge.status).toBe(413);
    expect(huge.body).toEqual({
      type: 'error',
      error: { type: 'request_too_large', message: expect.any(String) },
    });
    expect(s.upstream.requests).toHaveLength(0);
  });
});
