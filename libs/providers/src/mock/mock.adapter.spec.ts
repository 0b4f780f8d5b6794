import type { ChatRequest } from '../openai-types';
import { collectStream, expectProviderError, streamedText } from '../testing/adapter-fault-suite';
import { MockAdapter } from './mock.adapter';

const ctx = () => ({ signal: new AbortController().signal });
const request: ChatRequest = {
  model: 'mock-1',
  messages: [{ role: 'user', content: 'Tell me about the deterministic mock provider' }],
};

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

  it('tools: a forced tool_choice returns a tool call with {} arguments; auto answers in text', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'lookup' } }];
    const forced = await adapter.chat(
      { ...request, tools, tool_choice: { type: 'function', function: { name: 'lookup' } } },
      ctx(),
    );
    expect(forced.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: {
        content: null,
        tool_calls: [{ type: 'function', function: { name: 'lookup', arguments: '{}' } }],
      },
    });
    expect(
      (await adapter.chat({ ...request, tools, tool_choice: 'required' }, ctx())).choices[0].finish_reason,
    ).toBe('tool_calls');
    expect(
      (await adapter.chat({ ...request, tools, tool_choice: 'auto' }, ctx())).choices[0].finish_reason,
    ).toBe('stop');
    const { chunks } = await collectStream(
      adapter.stream({ ...request, tools, tool_choice: 'required' }, ctx()),
    );
    expect(chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])[0]).toMatchObject({
      index: 0,
      function: { name: 'lookup', arguments: '{}' },
    });
  });

  it('response_format json → valid JSON content', async () => {
    const res = await adapter.chat({ ...request, response_format: { type: 'json_object' } }, ctx());
    expect(JSON.parse(res.choices[0].message.content ?? '')).toMatchObject({ mock: true });
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
