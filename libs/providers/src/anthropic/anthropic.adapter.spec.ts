import type { ChatRequest } from '../openai-types';
import {
  collectStream,
  describeAdapterFaults,
  expectProviderError,
  streamedText,
} from '../testing/adapter-fault-suite';
import { startFakeUpstream, type FakeUpstream } from '../testing';
import { AnthropicAdapter } from './anthropic.adapter';
import { toolConversation } from './__fixtures__/tool-conversation';

const ctx = () => ({ signal: new AbortController().signal, timeoutMs: 5_000 });
const request: ChatRequest = {
  model: 'claude-3-5-haiku-latest',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Say hello' },
  ],
};

describe('AnthropicAdapter against a fake Anthropic upstream', () => {
  let up: FakeUpstream;
  let adapter: AnthropicAdapter;

  beforeAll(async () => {
    up = await startFakeUpstream();
    adapter = new AnthropicAdapter({
      baseUrl: up.anthropicBaseUrl,
      apiKey: 'sk-ant-test',
      now: () => 1_700_000_000,
    });
  });
  afterEach(() => up.reset());
  afterAll(async () => {
    await adapter.close();
    await up.close();
  });

  it('chat: POSTs {base}/v1/messages with x-api-key and anthropic-version; maps the message', async () => {
    up.enqueue({ text: 'Hello!', usage: { prompt: 12, completion: 3 } });
    const res = await adapter.chat(request, ctx());
    expect(res).toEqual({
      id: 'msg_fake1',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'claude-3-5-haiku-latest',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello!' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
    });
    const got = up.requests[0];
    expect(got.url).toBe('/v1/messages');
    expect(got.headers['x-api-key']).toBe('sk-ant-test');
    expect(got.headers['anthropic-version']).toBe('2023-06-01');
    expect(got.headers.authorization).toBeUndefined();
    expect(got.body).toEqual({
      model: 'claude-3-5-haiku-latest',
      max_tokens: 4096,
      system: 'Be brief.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Say hello' }] }],
    });
  });

  it('chat: tool_use blocks → tool_calls with finish_reason tool_calls; the conversation arrives as blocks', async () => {
    up.enqueue({ toolCalls: [{ id: 'toolu_9', name: 'get_weather', arguments: { city: 'Lyon' } }] });
    const res = await adapter.chat({ ...toolConversation, tool_choice: 'required' }, ctx());
    expect(res.choices[0]).toEqual({
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'toolu_9',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Lyon"}' },
          },
        ],
      },
      finish_reason: 'tool_calls',
    });
    const body = up.requests[0].body;
    expect(body.tool_choice).toEqual({ type: 'any' });
    expect(body.messages[2].content[0]).toEqual({
      type: 'tool_result',
      tool_use_id: 'call_42',
      content: '{"temp_c":21}',
    });
  });

  it('stream: message_start / text_delta / ping / message_delta / message_stop → OpenAI chunks + usage', async () => {
    up.enqueue({ text: 'one two three', usage: { prompt: 20, completion: 3 } });
    const { chunks, error } = await collectStream(adapter.stream({ ...request, stream: true }, ctx()));
    expect(error).toBeUndefined();
    expect(up.requests[0].body.stream).toBe(true);
    expect(chunks[0]).toMatchObject({
      id: 'msg_fake1',
      object: 'chat.completion.chunk',
      choices: [{ delta: { role: 'assistant' } }],
    });
    expect(streamedText(chunks)).toBe('one two three');
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['stop']);
    const last = chunks[chunks.length - 1];
    expect(last).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 20, completion_tokens: 3, total_tokens: 23 },
    });
    expect(chunks.filter((c) => c.usage)).toHaveLength(1);
  });

  it('stream: tool_use content_block_start + input_json_delta → tool_calls deltas with a stable index', async () => {
    up.enqueue({
      toolCalls: [{ id: 'toolu_1', name: 'get_weather', arguments: { city: 'Paris', days: 2 } }],
    });
    const { chunks } = await collectStream(adapter.stream({ ...toolConversation, stream: true }, ctx()));
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(deltas[0]).toEqual({
      index: 0,
      id: 'toolu_1',
      type: 'function',
      function: { name: 'get_weather', arguments: '' },
    });
    expect(deltas.every((d) => d.index === 0)).toBe(true);
    expect(deltas.map((d) => d.function?.arguments).join('')).toBe('{"city":"Paris","days":2}');
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['tool_calls']);
  });

  it('embeddings are not offered by Anthropic → not retryable upstream_unsupported', async () => {
    const err = await expectProviderError(adapter.embed({ model: 'x', input: 'a' }, ctx()));
    expect(err).toMatchObject({ code: 'upstream_unsupported', retryable: false, status: 400 });
    expect(up.requests).toHaveLength(0);
  });

  describeAdapterFaults({
    provider: 'anthropic',
    getUpstream: () => up,
    getAdapter: () => adapter,
    request,
    overloadStatus: 529,
  });
});
