import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ChatChunk, SseParser } from '@app/providers';
import { anthropicToolUseChunks, chunkMaker } from '../__fixtures__/canonical-chunks';
import { THINKING_MESSAGES_USAGE, THINKING_USAGE } from './__fixtures__/thinking-usage';
import { type MessagesEvent, MessagesStreamRenderer } from './messages-stream';

/** Anthropic's own streams, as recorded for the provider's stream-mapper specs. */
const FIXTURES = join(__dirname, '../../../../../libs/providers/src/anthropic/__fixtures__');
const recorded = (name: string): MessagesEvent[] =>
  new SseParser()
    .feed(readFileSync(join(FIXTURES, name), 'utf8'))
    .map((e) => ({ event: e.event as string, data: JSON.parse(e.data) as Record<string, unknown> }));

const chunks = chunkMaker('msg_01ThinkGcd', 'claude-sonnet-4-5');
const { chunk, usageChunk } = chunks;

function render(chunks: ChatChunk[], model = 'claude-sonnet-4-5'): MessagesEvent[] {
  const r = new MessagesStreamRenderer(model);
  return [...chunks.flatMap((c) => r.chunk(c)), ...r.finish()];
}

/** Events without their usage (message_start's is zero here: the canonical stream reports usage last). */
const withoutUsage = (events: MessagesEvent[]) =>
  events.map((e) => {
    if (e.event === 'message_start') {
      const { usage: _u, ...message } = e.data.message as Record<string, unknown>;
      return { ...e, data: { ...e.data, message } };
    }
    if (e.event === 'message_delta') return { ...e, data: { ...e.data, usage: undefined } };
    return e;
  });

describe('Messages stream renderer: canonical chunks → Anthropic events', () => {
  it("reproduces Anthropic's recorded extended-thinking stream, event for event", () => {
    const events = render([
      chunk({ role: 'assistant', content: '' }),
      chunk({ thinking_blocks: [{ index: 0, type: 'thinking', thinking: '' }] }),
      chunk({
        thinking_blocks: [
          {
            index: 0,
            thinking:
              'I need to find the GCD of 1071 and 462 using the Euclidean algorithm.\n\n1071 = 2 × 462 + 147',
          },
        ],
      }),
      chunk({
        thinking_blocks: [
          { index: 0, thinking: '\n462 = 3 × 147 + 21\n147 = 7 × 21 + 0\n\nSo GCD(1071, 462) = 21' },
        ],
      }),
      chunk({
        thinking_blocks: [{ index: 0, signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds' }],
      }),
      chunk({ content: 'The greatest common divisor (GCD) of 1071 and 462 is **21**.' }),
      chunk({}, 'stop'),
      usageChunk(THINKING_USAGE),
    ]);
    const original = recorded('stream-thinking.sse');
    const model = (e: MessagesEvent) => ({
      ...e,
      data: { ...e.data, message: { ...(e.data.message as object), model: 'x' } },
    });
    expect(withoutUsage(events).map((e) => (e.event === 'message_start' ? model(e) : e))).toEqual(
      withoutUsage(original).map((e) => (e.event === 'message_start' ? model(e) : e)),
    );
    expect(events.at(-2)!.data.usage).toEqual(THINKING_MESSAGES_USAGE);
    expect((events[0].data.message as { usage: object }).usage).toEqual({
      input_tokens: 0,
      output_tokens: 0,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    });
  });

  it("reproduces Anthropic's recorded text-then-tool_use stream", () => {
    const [start, ...rest] = anthropicToolUseChunks(chunks);
    const events = render([{ ...start, id: 'msg_014p7gG3wDgGV9EUtLvnow3U' }, ...rest]);
    // Anthropic also sends an empty input_json_delta first; an empty fragment carries nothing.
    const original = recorded('stream-tool-use.sse').filter(
      (e) =>
        !(
          e.event === 'content_block_delta' && (e.data.delta as { partial_json?: string }).partial_json === ''
        ),
    );
    const sameModel = (list: MessagesEvent[]) =>
      withoutUsage(list).map((e) =>
        e.event === 'message_start'
          ? { ...e, data: { ...e.data, message: { ...(e.data.message as object), model: 'm' } } }
          : e,
      );
    expect(sameModel(events)).toEqual(sameModel(original));
    expect(events.at(-2)!.data.usage).toMatchObject({ input_tokens: 472, output_tokens: 89 });
  });

  it('OpenAI-style chunks: parallel tool calls each get their own tool_use block, in order', () => {
    const events = render(
      [
        chunk({ role: 'assistant', content: null }),
        chunk({
          tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'ls', arguments: '' } }],
        }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"dir":"."}' } }] }),
        chunk({
          tool_calls: [
            { index: 1, id: 'call_b', type: 'function', function: { name: 'cat', arguments: '{"f":' } },
          ],
        }),
        chunk({ tool_calls: [{ index: 1, function: { arguments: '"a"}' } }] }),
        chunk({}, 'tool_calls'),
        usageChunk({ prompt_tokens: 10, completion_tokens: 4, total_tokens: 14 }),
      ],
      'gpt-4.1',
    );
    expect(events.map((e) => [e.event, e.data.index ?? null])).toEqual([
      ['message_start', null],
      ['content_block_start', 0],
      ['ping', null],
      ['content_block_delta', 0],
      ['content_block_stop', 0],
      ['content_block_start', 1],
      ['content_block_delta', 1],
      ['content_block_delta', 1],
      ['content_block_stop', 1],
      ['message_delta', null],
      ['message_stop', null],
    ]);
    expect(events[1].data.content_block).toEqual({ type: 'tool_use', id: 'call_a', name: 'ls', input: {} });
    expect(events[5].data.content_block).toEqual({ type: 'tool_use', id: 'call_b', name: 'cat', input: {} });
    expect(events[9].data.delta).toEqual({ stop_reason: 'tool_use', stop_sequence: null });
    expect((events[0].data.message as { model: string; id: string }).model).toBe('gpt-4.1');
  });

  it('a Gemini-style whole tool call is one block with one input_json_delta; a cut stream still closes', () => {
    const events = render([
      chunk({ role: 'assistant', content: 'Checking. ' }),
      chunk({
        tool_calls: [{ index: 0, id: 'c0', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
      }),
    ]);
    expect(events.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[6].data.delta).toEqual({ type: 'input_json_delta', partial_json: '{"a":1}' });
    expect(events[8].data.delta).toEqual({ stop_reason: 'end_turn', stop_sequence: null });
  });

  it('finish() alone still makes a complete (empty) message; a max_tokens finish says so', () => {
    const r = new MessagesStreamRenderer('m');
    expect(r.finish().map((e) => e.event)).toEqual(['message_start', 'message_delta', 'message_stop']);
    const cut = render([chunk({ content: 'partial' }, 'length')]);
    expect(cut.at(-2)!.data.delta).toEqual({ stop_reason: 'max_tokens', stop_sequence: null });
  });
});
