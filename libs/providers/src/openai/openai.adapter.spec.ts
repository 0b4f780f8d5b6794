import type { ChatRequest } from '../openai-types';
import { collectStream, describeAdapterFaults, streamedText } from '../testing/adapter-fault-suite';
import { startFakeUpstream, type FakeUpstream } from '../testing';
import { OpenAiAdapter } from './openai.adapter';

const ctx = () => ({ signal: new AbortController().signal, timeoutMs: 5_000 });
const request: ChatRequest = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] };

describe('OpenAiAdapter against a fake OpenAI upstream', () => {
  let up: FakeUpstream;
  let adapter: OpenAiAdapter;

  beforeAll(async () => {
    up = await startFakeUpstream();
    adapter = new OpenAiAdapter({ baseUrl: up.openaiBaseUrl, apiKey: 'sk-test-openai' });
  });
  afterEach(() => up.reset());
  afterAll(async () => {
    await adapter.close();
    await up.close();
  });

  it('chat: POSTs {base}/chat/completions with the bearer key and returns the chat.completion', async () => {
    up.enqueue({ text: 'Hello there', usage: { prompt: 9, completion: 2 } });
    const res = await adapter.chat({ ...request, temperature: 0.2, stop: ['END'], max_tokens: 20 }, ctx());
    expect(res).toMatchObject({
      object: 'chat.completion',
      model: 'gpt-4o-mini',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
    });
    expect(res.usage.estimated).toBeUndefined();
    const got = up.requests[0];
    expect(got.url).toBe('/v1/chat/completions');
    expect(got.headers.authorization).toBe('Bearer sk-test-openai');
    expect(got.body).toEqual({ ...request, temperature: 0.2, stop: ['END'], max_tokens: 20 });
  });

  it('stream: asks for usage, relays chunks in order and ends with the usage chunk', async () => {
    up.enqueue({ text: 'one two three', usage: { prompt: 5, completion: 3 } });
    const { chunks, error } = await collectStream(adapter.stream({ ...request, stream: true }, ctx()));
    expect(error).toBeUndefined();
    expect(up.requests[0].body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(up.requests[0].headers.accept).toBe('text/event-stream');
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(streamedText(chunks)).toBe('one two three');
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['stop']);
    const last = chunks[chunks.length - 1];
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({ prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
  });

  it('stream: a server that reports no usage gets an estimated usage chunk (≈ chars/4)', async () => {
    up.enqueue({ text: 'abcdefgh ijklmnop', usage: false });
    const { chunks } = await collectStream(adapter.stream({ ...request, stream: true }, ctx()));
    const last = chunks[chunks.length - 1];
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({
      estimated: true,
      completion_tokens: Math.ceil('abcdefgh ijklmnop'.length / 4),
    });
    expect(last.usage?.prompt_tokens).toBeGreaterThan(0);
  });

  it('tool calls: streamed argument fragments keep their index; JSON answer carries tool_calls', async () => {
    const tools = [
      { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object' } } },
    ];
    const toolCalls = [{ id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }];
    up.enqueue({ toolCalls }, { toolCalls });
    const res = await adapter.chat({ ...request, tools, tool_choice: 'required' }, ctx());
    expect(res.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: {
        content: null,
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
        ],
      },
    });
    const { chunks } = await collectStream(adapter.stream({ ...request, tools, stream: true }, ctx()));
    const args = chunks
      .flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
      .map((t) => t.function?.arguments ?? '')
      .join('');
    expect(args).toBe('{"city":"Paris"}');
    expect(up.requests[0].body.tools).toEqual(tools);
  });

  it('embeddings: POSTs {base}/embeddings with encoding_format float', async () => {
    const res = await adapter.embed(
      { model: 'text-embedding-3-small', input: ['a', 'b'], dimensions: 16 },
      ctx(),
    );
    expect(res.data.map((d) => [d.index, d.embedding.length])).toEqual([
      [0, 16],
      [1, 16],
    ]);
    expect(res.usage.estimated).toBeUndefined();
    expect(up.requests[0]).toMatchObject({
      url: '/v1/embeddings',
      body: { encoding_format: 'float', dimensions: 16 },
    });
  });

  it('keeps the connection alive between requests (one socket for sequential calls)', async () => {
    for (let i = 0; i < 3; i++) {
      await adapter.chat(request, ctx());
      // let the pool see the socket free again (undici releases it on the next tick)
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(up.requests).toHaveLength(3);
    expect(new Set(up.requests.map((r) => r.remotePort)).size).toBe(1);
  });

  it('the pool size is configurable: with one connection, concurrent calls share one socket', async () => {
    const single = new OpenAiAdapter({ baseUrl: up.openaiBaseUrl, apiKey: 'k', pool: { connections: 1 } });
    try {
      up.setBehaviour({ latencyMs: 50 });
      await Promise.all([
        single.chat(request, ctx()),
        single.chat(request, ctx()),
        single.chat(request, ctx()),
      ]);
      expect(up.requests).toHaveLength(3);
      expect(new Set(up.requests.map((r) => r.remotePort)).size).toBe(1);
    } finally {
      await single.close();
    }
  });

  it('openai-compatible: another id and base URL, no key needed, no Authorization header sent', async () => {
    const compat = new OpenAiAdapter({ id: 'ollama', baseUrl: up.openaiBaseUrl });
    const open = await startFakeUpstream({ requireAuth: false });
    const local = new OpenAiAdapter({ id: 'ollama', baseUrl: `${open.url}/v1` });
    try {
      const err = await compat.chat(request, ctx()).catch((e: unknown) => e);
      expect(err).toMatchObject({ provider: 'ollama', status: 401, retryable: false });
      const res = await local.chat(request, ctx());
      expect(res.choices[0].message.content).toBe('Hello from the fake upstream.');
      expect(open.requests[0].headers.authorization).toBeUndefined();
    } finally {
      await compat.close();
      await local.close();
      await open.close();
    }
  });

  describeAdapterFaults({
    provider: 'openai',
    getUpstream: () => up,
    getAdapter: () => adapter,
    request,
    overloadStatus: 503,
  });
});
