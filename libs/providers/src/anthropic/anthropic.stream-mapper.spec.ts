import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatChunk } from '../openai-types';
import { SseParser } from '../sse';
import { createStreamState, fromStreamEvent } from './anthropic.stream-mapper';

/** A transcript in the shape Anthropic documents for streamed tool use (text block, then tool_use). */
const transcript = readFileSync(join(__dirname, '__fixtures__', 'stream-tool-use.sse'), 'utf8');

function translate(text: string): { chunks: ChatChunk[]; done: boolean } {
  const state = createStreamState('anthropic', 'claude', 1_700_000_000);
  const chunks: ChatChunk[] = [];
  for (const ev of new SseParser().feed(text)) chunks.push(...fromStreamEvent(state, ev));
  return { chunks, done: state.done };
}

describe('anthropic stream mapper on a documented transcript', () => {
  it('text deltas, then a tool call with its JSON fragments, tool_calls finish and summed usage', () => {
    const { chunks, done } = translate(transcript);
    expect(done).toBe(true);
    expect(chunks[0]).toMatchObject({
      id: 'msg_014p7gG3wDgGV9EUtLvnow3U',
      model: 'claude-sonnet-4-5-20250929',
    });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(
      "Okay, let's check the weather.",
    );
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls[0]).toEqual({
      index: 0,
      id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
      type: 'function',
      function: { name: 'get_weather', arguments: '' },
    });
    expect(calls.map((t) => t.function?.arguments).join('')).toBe('{"location": "San Francisco, CA"}');
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['tool_calls']);
    expect(chunks[chunks.length - 1]).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 472, completion_tokens: 89, total_tokens: 561 },
    });
  });

  it('an error event throws a retryable ProviderError (overloaded → 529)', () => {
    const cut = transcript.split('event: content_block_stop')[0];
    const error =
      'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n';
    expect(() => translate(cut + error)).toThrow(
      expect.objectContaining({ code: 'upstream_stream_error', status: 529, retryable: true }),
    );
  });

  it('unknown events (e.g. thinking deltas, future types) are ignored', () => {
    const extra =
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}\n\n' +
      'event: brand_new\ndata: {"type":"brand_new"}\n\n';
    const { chunks } = translate(
      transcript.replace('event: content_block_stop', `${extra}event: content_block_stop`),
    );
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(
      "Okay, let's check the weather.",
    );
  });
});

describe('anthropic stream mapper: extended thinking (documented transcript)', () => {
  const thinking = readFileSync(join(__dirname, '__fixtures__', 'stream-thinking.sse'), 'utf8');

  it('thinking and signature deltas become thinking_blocks fragments; cache tokens reach the usage', () => {
    const { chunks } = translate(thinking);
    const fragments = chunks.flatMap((c) => c.choices[0]?.delta.thinking_blocks ?? []);
    expect(fragments[0]).toEqual({ index: 0, type: 'thinking', thinking: '' });
    expect(fragments.every((f) => f.index === 0)).toBe(true);
    expect(fragments.map((f) => f.thinking ?? '').join('')).toBe(
      'I need to find the GCD of 1071 and 462 using the Euclidean algorithm.\n\n1071 = 2 × 462 + 147' +
        '\n462 = 3 × 147 + 21\n147 = 7 × 21 + 0\n\nSo GCD(1071, 462) = 21',
    );
    expect(fragments[fragments.length - 1]).toEqual({
      index: 0,
      signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds',
    });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(
      'The greatest common divisor (GCD) of 1071 and 462 is **21**.',
    );
    expect(chunks[chunks.length - 1].usage).toEqual({
      prompt_tokens: 12 + 2048 + 4096,
      completion_tokens: 97,
      total_tokens: 12 + 2048 + 4096 + 97,
      prompt_tokens_details: { cached_tokens: 4096 },
      cache_creation_input_tokens: 2048,
    });
  });

  it('a redacted thinking block arrives whole', () => {
    const redacted = thinking.replace(
      '"content_block":{"type":"thinking","thinking":"","signature":""}',
      '"content_block":{"type":"redacted_thinking","data":"EmwKAhgBEgy3va3pzix"}',
    );
    const fragments = translate(redacted).chunks.flatMap((c) => c.choices[0]?.delta.thinking_blocks ?? []);
    expect(fragments[0]).toEqual({ index: 0, type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix' });
  });
});
