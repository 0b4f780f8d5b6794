import OpenAI from 'openai';
import request from 'supertest';
import { bootApp, type BootedApp, createTestEnv, SERVICES_LABEL, type TestEnv } from '@app/testing';
import { AppModule } from '../src/app.module';
import { type FakeUpstream, startFakeUpstream, tenantWithKey, upstreamEnv } from './governance-helpers';

describe(`router chat completions through the official openai SDK (${SERVICES_LABEL})`, () => {
  let upstream: FakeUpstream;
  let testEnv: TestEnv;
  let booted: BootedApp;
  let client: OpenAI;
  let token: string;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    testEnv = await createTestEnv(upstreamEnv(upstream));
    booted = await bootApp('router', AppModule, testEnv.env);
    token = (await tenantWithKey(booted)).key;
    client = new OpenAI({ apiKey: token, baseURL: `${booted.url}/v1`, maxRetries: 0, timeout: 10_000 });
  });
  beforeEach(() => upstream.reset());
  afterAll(async () => {
    await booted?.close();
    await upstream?.close();
    await testEnv?.cleanup();
  });

  it('non-streaming chat returns the OpenAI shape with ATP headers and cost', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] })
      .withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.model).toBe('gpt-4o-mini');
    expect(data.choices[0].message.content).toBe('Hello from the fake upstream.');
    expect(data.usage!.total_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-atp-provider')).toBe('openai');
    expect(response.headers.get('x-atp-route')).toBe('gpt-4o-mini');
    expect(response.headers.get('x-atp-attempts')).toBe('1');
    expect(Number(response.headers.get('x-atp-cost-usd'))).toBeGreaterThan(0);
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0].headers.authorization).toBe('Bearer sk-fake-openai');
  });

  it('streams with include_usage through the SDK, ending in a usage chunk', async () => {
    const stream = await client.chat.completions.create({
      model: 'claude-3-5-haiku-latest',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Say hello' },
      ],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('Hello from the fake upstream.');
    expect(usage!.completion_tokens).toBeGreaterThan(0);
    const sent = upstream.requests[0];
    expect(sent.vendor).toBe('anthropic');
    expect(sent.body.system).toBe('Be brief.');
  });

  it('tools round-trip through Gemini', async () => {
    upstream.setBehaviour({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] });
    const res = await client.chat.completions.create({
      model: 'gemini-2.0-flash',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
          },
        },
      ],
    });
    expect(res.choices[0].finish_reason).toBe('tool_calls');
    const call = res.choices[0].message.tool_calls![0];
    expect(call.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });
  });

  it('falls back to the next candidate of a route when the first fails', async () => {
    upstream.setBehaviour((r) =>
      r.vendor === 'anthropic' ? { fault: { type: 'status', status: 500 } } : {},
    );
    const { data, response } = await client.chat.completions
      .create({ model: 'best', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(data.choices[0].message.content).toBe('Hello from the fake upstream.');
    expect(response.headers.get('x-atp-route')).toBe('best');
    expect(response.headers.get('x-atp-provider')).toBe('openai');
    expect(Number(response.headers.get('x-atp-attempts'))).toBe(3); // anthropic twice (one retry), then openai
  });

  it('maps a total upstream failure to 502 and the SDK error class', async () => {
    upstream.setBehaviour({ fault: { type: 'status', status: 500 } });
    await expect(
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toBeInstanceOf(OpenAI.InternalServerError);
  });

  it('embeddings and models', async () => {
    const emb = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    expect(emb.data).toHaveLength(2);
    expect(emb.data[0].embedding.length).toBeGreaterThan(0);
    const models = await client.models.list();
    const ids = models.data.map((m) => m.id);
    expect(ids).toEqual(
      expect.arrayContaining(['gpt-4o-mini', 'claude-sonnet-4-5', 'gemini-2.5-pro', 'auto', 'best']),
    );
    expect(models.data.find((m) => m.id === 'auto')!.owned_by).toBe('atp');
    expect(models.data.find((m) => m.id === 'gemini-2.0-flash')!.owned_by).toBe('google');
    // Retired models stay listed, marked with the vendor's date; current ones carry no marker.
    expect(models.data.find((m) => m.id === 'claude-3-5-haiku-latest')).toEqual({
      id: 'claude-3-5-haiku-latest',
      object: 'model',
      created: expect.any(Number),
      owned_by: 'anthropic',
      doors: ['chat', 'responses', 'messages'],
      deprecated: true,
      deprecation_date: '2026-02-19',
      replacement: 'claude-haiku-4-5',
    });
    expect(models.data.find((m) => m.id === 'claude-haiku-4-5')).not.toHaveProperty('deprecated');
  });

  it('a call to a retired model is still forwarded: the vendor answers', async () => {
    const res = await client.chat.completions.create({
      model: 'claude-3-5-haiku-latest',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.choices[0].message.content).toBe('Hello from the fake upstream.');
    expect(upstream.requests.at(-1)).toMatchObject({ vendor: 'anthropic', model: 'claude-3-5-haiku-latest' });
  });

  it('bad input is a 400 naming the field; unknown model a 404; no credential a 401', async () => {
    await expect(
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: [] }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(
      client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const res = await request(booted.url)
      .post('/v1/chat/completions')
      .send({ model: 'gpt-4o-mini', messages: [] });
    expect(res.status).toBe(401);
    expect(res.body.error.type).toBe('authentication_error');
  });

  it('response cache: opt-in per request, hit replays JSON and streams, bypass and refresh go upstream', async () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `cache me ${Date.now()}` }] };
    const send = (headers: Record<string, string>, extra: Record<string, unknown> = {}) =>
      request(booted.url)
        .post('/v1/chat/completions')
        .set('authorization', `Bearer ${token}`)
        .set(headers)
        .send({ ...body, ...extra });
    const first = await send({ 'x-atp-cache-ttl': '60' }).expect(200);
    expect(first.headers['x-atp-cache']).toBe('miss');
    await new Promise((r) => setTimeout(r, 50)); // the store is written off the response path
    const second = await send({ 'x-atp-cache-ttl': '60' }).expect(200);
    expect(second.headers['x-atp-cache']).toBe('hit');
    expect(second.headers['x-atp-attempts']).toBe('0');
    expect(second.body.choices[0].message.content).toBe(first.body.choices[0].message.content);
    expect(upstream.requests).toHaveLength(1);

    const stream = await send({ 'x-atp-cache-ttl': '60' }, { stream: true }).expect(200);
    expect(stream.headers['x-atp-cache']).toBe('hit');
    const text = stream.text
      .split('\n')
      .filter((l) => l.startsWith('data: {'))
      .map((l) => JSON.parse(l.slice(6)).choices[0]?.delta?.content ?? '')
      .join('');
    expect(text).toBe(first.body.choices[0].message.content);
    expect(stream.text.trim().endsWith('data: [DONE]')).toBe(true);
    expect(upstream.requests).toHaveLength(1);

    expect(
      (await send({ 'x-atp-cache-ttl': '60', 'x-atp-cache': 'bypass' }).expect(200)).headers['x-atp-cache'],
    ).toBe('bypass');
    expect(
      (await send({ 'x-atp-cache-ttl': '60', 'x-atp-cache': 'refresh' }).expect(200)).headers['x-atp-cache'],
    ).toBe('miss');
    expect(upstream.requests).toHaveLength(3);
    expect((await send({}).expect(200)).headers['x-atp-cache']).toBe('bypass'); // not opted in
    const bad = await send({ 'x-atp-cache-ttl': 'forever' }).expect(400);
    expect(bad.body.error.message).toMatch(/x-atp-cache-ttl/);
  });

  it('usage rows are recorded and aggregated by /v1/usage', async () => {
    await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'count me' }],
    });
    const res = await request(booted.url)
      .get('/v1/usage?group_by=model')
      .set('authorization', `Bearer ${token}`)
      .expect(200);
    const row = res.body.data.find((r: { model: string }) => r.model === 'gpt-4o');
    expect(row.requests).toBeGreaterThanOrEqual(1);
    expect(row.cost_usd).toBeGreaterThan(0);
    expect(res.body.totals.requests).toBeGreaterThanOrEqual(row.requests);
  });
});
