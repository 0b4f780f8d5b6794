import type { ChatRequest } from '../openai-types';
import {
  collectStream,
  describeAdapterFaults,
  expectProviderError,
  streamedText,
} from '../testing/adapter-fault-suite';
import { startFakeUpstream, type FakeUpstream } from '../testing';
import { GoogleAdapter } from './google.adapter';

const ctx = () => ({ signal: new AbortController().signal, timeoutMs: 5_000 });
const request: ChatRequest = {
  model: 'gemini-2.0-flash',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Say hello' },
  ],
};

describe('GoogleAdapter against a fake Gemini upstream', () => {
  let up: FakeUpstream;
  let adapter: GoogleAdapter;

  beforeAll(async () => {
    up = await startFakeUpstream();
    adapter = new GoogleAdapter({ baseUrl: up.googleBaseUrl, apiKey: 'AIza-test', now: () => 1_700_000_000 });
  });
  afterEach(() => up.reset());
  afterAll(async () => {
    await adapter.close();
    await up.close();
  });

  it('chat: POSTs /v1beta/models/{model}:generateContent with x-goog-api-key; maps the response', async () => {
    up.enqueue({ text: 'Hello!', usage: { prompt: 6, completion: 2 } });
    const res = await adapter.chat(request, ctx());
    expect(res).toMatchObject({
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'gemini-2.0-flash',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello!' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 6, completion_tokens: 2, total_tokens: 8 },
    });
    expect(res.id).toMatch(/^chatcmpl-/);
    const got = up.requests[0];
    expect(got.url).toBe('/v1beta/models/gemini-2.0-flash:generateContent');
    expect(got.headers['x-goog-api-key']).toBe('AIza-test');
    expect(got.url).not.toContain('key=');
    expect(got.body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Say hello' }] }],
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
    });
  });

  it('chat: functionCall parts → tool_calls; length finish', async () => {
    up.enqueue({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Rome' } }] }, { finish: 'length' });
    const res = await adapter.chat(
      { ...request, tools: [{ type: 'function', function: { name: 'get_weather' } }] },
      ctx(),
    );
    expect(res.choices[0].finish_reason).toBe('tool_calls');
    expect(res.choices[0].message.tool_calls?.[0]).toMatchObject({
      type: 'function',
      function: { name: 'get_weather', arguments: '{"city":"Rome"}' },
    });
    expect(res.choices[0].message.tool_calls?.[0].id).toMatch(/^call_/);
    expect((await adapter.chat(request, ctx())).choices[0].finish_reason).toBe('length');
  });

  it('stream: :streamGenerateContent?alt=sse data events → OpenAI chunks, finish, then usage', async () => {
    up.enqueue({ text: 'one two three', usage: { prompt: 4, completion: 3 } });
    const { chunks, error } = await collectStream(adapter.stream({ ...request, stream: true }, ctx()));
    expect(error).toBeUndefined();
    expect(up.requests[0].url).toBe('/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse');
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(streamedText(chunks)).toBe('one two three');
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['stop']);
    const last = chunks[chunks.length - 1];
    expect(last).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 },
    });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  });

  it('stream: function calls arrive as whole tool_calls deltas; no usageMetadata → estimated usage', async () => {
    up.enqueue({ toolCalls: [{ name: 'f', arguments: { x: 1 } }], usage: false });
    const { chunks } = await collectStream(adapter.stream({ ...request, stream: true }, ctx()));
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls).toEqual([
      {
        index: 0,
        id: expect.stringMatching(/^call_/),
        type: 'function',
        function: { name: 'f', arguments: '{"x":1}' },
      },
    ]);
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['tool_calls']);
    expect(chunks[chunks.length - 1].usage).toMatchObject({ estimated: true });
  });

  it('embed: one input → :embedContent; several → :batchEmbedContents; usage estimated', async () => {
    const one = await adapter.embed({ model: 'text-embedding-004', input: 'hello', dimensions: 12 }, ctx());
    expect(one.data).toHaveLength(1);
    expect(one.data[0].embedding).toHaveLength(12);
    expect(one.usage).toEqual({ prompt_tokens: 2, total_tokens: 2, estimated: true });
    expect(up.requests[0]).toMatchObject({
      url: '/v1beta/models/text-embedding-004:embedContent',
      body: { content: { parts: [{ text: 'hello' }] }, outputDimensionality: 12 },
    });
    const many = await adapter.embed({ model: 'text-embedding-004', input: ['a', 'b', 'c'] }, ctx());
    expect(many.data.map((d) => d.index)).toEqual([0, 1, 2]);
    expect(up.requests[1].url).toBe('/v1beta/models/text-embedding-004:batchEmbedContents');
    expect(up.requests[1].body.requests[2]).toEqual({
      model: 'models/text-embedding-004',
      content: { parts: [{ text: 'c' }] },
    });
    expect(many.data[0].embedding).not.toEqual(many.data[1].embedding);
  });

  it('embed: token-array input is not supported → upstream_unsupported, no request', async () => {
    const err = await expectProviderError(
      adapter.embed({ model: 'text-embedding-004', input: [1, 2, 3] }, ctx()),
    );
    expect(err).toMatchObject({ code: 'upstream_unsupported', retryable: false });
    expect(up.requests).toHaveLength(0);
  });

  describeAdapterFaults({
    provider: 'google',
    getUpstream: () => up,
    getAdapter: () => adapter,
    request,
    overloadStatus: 503,
  });
});
