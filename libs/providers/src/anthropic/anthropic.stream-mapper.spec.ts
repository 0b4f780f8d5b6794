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
