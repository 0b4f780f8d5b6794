import { MemoryKvStore } from '@app/cache';
import type { ChatRequest, ChatResponse } from '@app/providers';
import { cacheKey, ChunkAssembler, parseDirective, replayAsChunks, ResponseCache } from './response-cache';

const req = (over: Partial<ChatRequest> = {}): ChatRequest =>
  ({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'hi' }],
    temperature: 0,
    ...over,
  }) as ChatRequest;

const answer: ChatResponse = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello!' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
};

describe('response cache', () => {
  it('keys are per tenant and per model, ignore stream/user and key order, and see every other field', () => {
    const k = cacheKey('t1', 'gpt-4o-mini', req());
    expect(cacheKey('t1', 'gpt-4o-mini', req({ stream: true, user: 'u' }))).toBe(k);
    expect(
      cacheKey('t1', 'gpt-4o-mini', { temperature: 0, messages: req().messages, model: 'x' } as ChatRequest),
    ).toBe(k);
    expect(cacheKey('t2', 'gpt-4o-mini', req())).not.toBe(k);
    expect(cacheKey('t1', 'gpt-4o', req())).not.toBe(k);
    expect(cacheKey('t1', 'gpt-4o-mini', req({ temperature: 1 }))).not.toBe(k);
    expect(cacheKey('t1', 'gpt-4o-mini', req({ messages: [{ role: 'user', content: 'hi!' }] }))).not.toBe(k);
  });

  it('stores complete answers only, with a TTL', async () => {
    let now = 1000;
    const kv = new MemoryKvStore(() => now);
    const cache = new ResponseCache(kv);
    await cache.set('a', answer, 10);
    expect(await cache.get('a')).toEqual(answer);
    await cache.set('b', { ...answer, choices: [{ ...answer.choices[0], finish_reason: 'length' }] }, 10);
    expect(await cache.get('b')).toBeNull();
    now += 10_001;
    expect(await cache.get('a')).toBeNull();
    await kv.close();
  });

  it('replays an answer as chunks and assembles chunks back into the same answer', () => {
    const withTools: ChatResponse = {
      ...answer,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
          },
          finish_reason: 'tool_calls',
        },
      ],
    };
    const withThinking: ChatResponse = {
      ...answer,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Done.',
            thinking_blocks: [
              { type: 'thinking', thinking: 'Let me see.', signature: 'sig' },
              { type: 'redacted_thinking', data: 'opaque' },
            ],
          },
          finish_reason: 'stop',
        },
      ],
    };
    for (const res of [answer, withTools, withThinking]) {
      const chunks = replayAsChunks(res);
      expect(chunks.at(-1)!.usage).toEqual(res.usage);
      const asm = new ChunkAssembler();
      chunks.forEach((c) => asm.add(c));
      expect(asm.build(res.usage)).toEqual(res);
    }
  });

  it('reads the request directive', () => {
    expect(parseDirective(undefined)).toBe('use');
    expect(parseDirective('BYPASS')).toBe('bypass');
    expect(parseDirective('refresh')).toBe('refresh');
    expect(parseDirective('nonsense')).toBe('use');
  });
});
