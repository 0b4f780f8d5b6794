import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { ChatRequest, ChatResponse } from '../openai-types';
import { collectStream, expectProviderError, streamedText } from '../testing/adapter-fault-suite';
import { MockAdapter } from './mock.adapter';

const ctx = () => ({ signal: new AbortController().signal });
const request: ChatRequest = {
  model: 'mock-1',
  messages: [{ role: 'user', content: 'Tell me about the deterministic mock provider' }],
};

const ajv = new Ajv2020({ strict: false });
addFormats(ajv);

describe('MockAdapter', () => {
  const adapter = new MockAdapter({ now: () => 1_700_000_000, chunkCount: 4 });

  it('chat: deterministic reply derived from the prompt, computed usage', async () => {
    const a = await adapter.chat(request, ctx());
    const b = await adapter.chat(request, ctx());
    const text = a.choices[0].message.content ?? '';
    expect(text).toContain('Tell me about the deterministic mock provider');
    expect(b.choices[0].message.content).toBe(text);
    expect(a.choices[0].finish_reason).toBe('stop');
    expect(a.usage.completion_tokens).toBe(Math.ceil(text.length / 4));
    expect(a.usage.prompt_tokens).toBeGreaterThan(0);
    expect(a.usage.total_tokens).toBe(a.usage.prompt_tokens + a.usage.completion_tokens);
    expect(a.id).not.toBe(b.id);
    const other = await adapter.chat(
      { ...request, messages: [{ role: 'user', content: 'something else' }] },
      ctx(),
    );
    expect(other.choices[0].message.content).not.toBe(text);
  });

  it('stream: the same text in the configured number of chunks, then finish and usage', async () => {
    const full = await adapter.chat(request, ctx());
    const { chunks, error } = await collectStream(adapter.stream({ ...request, stream: true }, ctx()));
    expect(error).toBeUndefined();
    expect(streamedText(chunks)).toBe(full.choices[0].message.content);
    expect(chunks.filter((c) => c.choices[0]?.delta.content)).toHaveLength(4);
    expect(chunks[chunks.length - 2].choices[0].finish_reason).toBe('stop');
    expect(chunks[chunks.length - 1]).toMatchObject({ choices: [], usage: full.usage });
  });

  const weather = {
    type: 'function' as const,
    function: {
      name: 'get_weather',
      description: 'Current weather for a city',
      parameters: {
        type: 'object',
        properties: {
          city: { type: 'string', minLength: 1 },
          unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
          day: { type: 'string', format: 'date' },
        },
        required: ['city', 'unit', 'day'],
        additionalProperties: false,
      },
    },
  };
  const search = {
    type: 'function' as const,
    function: {
      name: 'searchDocuments',
      description: 'Full-text search over the knowledge base',
      parameters: {
        type: 'object',
        properties: { query: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 20 } },
        required: ['query'],
      },
    },
  };
  const ask = (content: string): ChatRequest => ({ model: 'mock-1', messages: [{ role: 'user', content }] });
  const calledTool = (res: ChatResponse) => res.choices[0].message.tool_calls?.[0]?.function.name;

  it('tools under auto: the first tool named or described in the last user message, else the first tool', async () => {
    const tools = [weather, search];
    expect(calledTool(await adapter.chat({ ...ask('search the documents'), tools }, ctx()))).toBe(
      'searchDocuments',
    );
    expect(calledTool(await adapter.chat({ ...ask('anything in the knowledge base?'), tools }, ctx()))).toBe(
      'searchDocuments',
    );
    expect(
      calledTool(await adapter.chat({ ...ask('call searchDocuments'), tools, tool_choice: 'auto' }, ctx())),
    ).toBe('searchDocuments');
    expect(calledTool(await adapter.chat({ ...ask('weather in Paris?'), tools }, ctx()))).toBe('get_weather');
    const fallback = await adapter.chat({ ...ask('hello there'), tools }, ctx());
    expect(fallback.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: { content: null, tool_calls: [{ type: 'function', function: { name: 'get_weather' } }] },
    });
    // After a tool result the mock answers in text.
    const afterResult = await adapter.chat(
      {
        model: 'mock-1',
        tools,
        messages: [
          { role: 'user', content: 'weather in Paris?' },
          { role: 'assistant', content: null, tool_calls: fallback.choices[0].message.tool_calls },
          { role: 'tool', tool_call_id: fallback.choices[0].message.tool_calls![0].id, content: '18°C' },
        ],
      },
      ctx(),
    );
    expect(afterResult.choices[0].finish_reason).toBe('stop');
    expect(afterResult.choices[0].message.content).toContain('18°C');
    expect(
      (await adapter.chat({ ...ask('weather?'), tools, tool_choice: 'none' }, ctx())).choices[0]
        .finish_reason,
    ).toBe('stop');
  });

  it('tool arguments validate against the parameters schema; required and named choices always call', async () => {
    const tools = [weather, search];
    const named = await adapter.chat(
      { ...ask('hello'), tools, tool_choice: { type: 'function', function: { name: 'searchDocuments' } } },
      ctx(),
    );
    const required = await adapter.chat({ ...ask('weather please'), tools, tool_choice: 'required' }, ctx());
    expect(calledTool(named)).toBe('searchDocuments');
    expect(calledTool(required)).toBe('get_weather');
    const weatherArgs = JSON.parse(required.choices[0].message.tool_calls![0].function.arguments);
    expect(ajv.validate(weather.function.parameters, weatherArgs)).toBe(true);
    expect(weatherArgs).toEqual({ city: 'mock city', unit: 'celsius', day: '2026-01-01' });
    const searchArgs = JSON.parse(named.choices[0].message.tool_calls![0].function.arguments);
    expect(ajv.validate(search.function.parameters, searchArgs)).toBe(true);
    // Without parameters: an empty object.
    const bare = await adapter.chat(
      { ...ask('x'), tools: [{ type: 'function', function: { name: 'ping' } }], tool_choice: 'required' },
      ctx(),
    );
    expect(bare.choices[0].message.tool_calls![0].function.arguments).toBe('{}');
    const { chunks } = await collectStream(
      adapter.stream({ ...ask('weather'), tools, tool_choice: 'required' }, ctx()),
    );
    expect(chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])[0]).toMatchObject({
      index: 0,
      function: { name: 'get_weather', arguments: JSON.stringify(weatherArgs) },
    });
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe('tool_calls');
  });

  it('response_format json_object → valid JSON; json_schema → JSON valid against the schema', async () => {
    const res = await adapter.chat({ ...request, response_format: { type: 'json_object' } }, ctx());
    expect(JSON.parse(res.choices[0].message.content ?? '')).toMatchObject({ mock: true });
    const schema = {
      type: 'object',
      properties: {
        title: { type: 'string' },
        tags: { type: 'array', items: { type: 'string' }, minItems: 2 },
        owner: { $ref: '#/$defs/person' },
      },
      required: ['title', 'tags', 'owner'],
      additionalProperties: false,
      $defs: {
        person: {
          type: 'object',
          properties: { email: { type: 'string', format: 'email' } },
          required: ['email'],
        },
      },
    };
    const structured = await adapter.chat(
      {
        ...request,
        response_format: { type: 'json_schema', json_schema: { name: 'note', schema, strict: true } },
      },
      ctx(),
    );
    const value = JSON.parse(structured.choices[0].message.content ?? '');
    expect(ajv.validate(schema, value)).toBe(true);
    expect(value).toEqual({
      title: 'mock title',
      tags: ['mock tags', 'mock tags'],
      owner: { email: 'user@example.com' },
    });
  });

  it('max_tokens / max_completion_tokens cut the reply: finish_reason length, usage adds up', async () => {
    const full = await adapter.chat(request, ctx());
    for (const limit of [{ max_tokens: 3 }, { max_completion_tokens: 3 }]) {
      const cut = await adapter.chat({ ...request, ...limit }, ctx());
      expect(cut.choices[0].finish_reason).toBe('length');
      expect(cut.choices[0].message.content).toBe(full.choices[0].message.content!.slice(0, 12));
      expect(cut.usage).toEqual({
        prompt_tokens: full.usage.prompt_tokens,
        completion_tokens: 3,
        total_tokens: full.usage.prompt_tokens + 3,
      });
      const { chunks } = await collectStream(adapter.stream({ ...request, ...limit, stream: true }, ctx()));
      expect(streamedText(chunks)).toBe(cut.choices[0].message.content);
      expect(chunks[chunks.length - 2].choices[0].finish_reason).toBe('length');
      expect(chunks[chunks.length - 1].usage).toEqual(cut.usage);
    }
    const roomy = await adapter.chat({ ...request, max_tokens: 10_000 }, ctx());
    expect(roomy.choices[0]).toMatchObject({ finish_reason: 'stop', message: full.choices[0].message });
  });

  it('n choices: the same reply n times, usage counts every one', async () => {
    const res = await adapter.chat({ ...request, n: 3 } as ChatRequest, ctx());
    expect(res.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(new Set(res.choices.map((c) => c.message.content)).size).toBe(1);
    const one = await adapter.chat(request, ctx());
    expect(res.usage.completion_tokens).toBe(3 * one.usage.completion_tokens);
    expect(res.usage.total_tokens).toBe(res.usage.prompt_tokens + res.usage.completion_tokens);
    const { chunks } = await collectStream(
      adapter.stream({ ...request, n: 3, stream: true } as ChatRequest, ctx()),
    );
    for (const index of [0, 1, 2]) {
      const text = chunks
        .map((c) => (c.choices[0]?.index === index ? (c.choices[0].delta.content ?? '') : ''))
        .join('');
      expect(text).toBe(one.choices[0].message.content);
    }
  });

  it('embeddings: deterministic, normalized, dimension from the request (clamped 8..1536)', async () => {
    const res = await adapter.embed({ model: 'mock-embed', input: ['a', 'b', 'a'], dimensions: 32 }, ctx());
    const [a, b, a2] = res.data.map((d) => d.embedding);
    expect(a).toHaveLength(32);
    expect(a2).toEqual(a);
    expect(b).not.toEqual(a);
    expect(Math.sqrt(a.reduce((s, v) => s + v * v, 0))).toBeCloseTo(1, 10);
    expect((await adapter.embed({ model: 'm', input: 'x' }, ctx())).data[0].embedding).toHaveLength(1536);
    expect(
      (await adapter.embed({ model: 'm', input: 'x', dimensions: 2 }, ctx())).data[0].embedding,
    ).toHaveLength(8);
  });

  it('latency is configurable and abortable', async () => {
    const slow = new MockAdapter({ latencyMs: 200 });
    const started = Date.now();
    await slow.chat(request, ctx());
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    const ctrl = new AbortController();
    const pending = slow.chat(request, { signal: ctrl.signal });
    setTimeout(() => ctrl.abort(), 20);
    const err = await expectProviderError(pending);
    expect(err).toMatchObject({ code: 'client_aborted', provider: 'mock' });
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
