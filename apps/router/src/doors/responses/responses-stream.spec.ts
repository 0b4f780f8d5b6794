import type { ChatChunk } from '@app/providers';
import { anthropicToolUseChunks, chunkMaker } from '../__fixtures__/canonical-chunks';
import { parseResponsesRequest } from './responses-request';
import { type ResponseIds, responseShell } from './response-object';
import { ResponsesStreamRenderer } from './responses-stream';
import type { ResponseStreamEvent } from './responses.types';

/** Ids in order: resp_1, msg_2, fc_3, … */
function counterIds(): ResponseIds {
  let n = 0;
  return { next: (prefix) => `${prefix}_${++n}` };
}

const { chunk } = chunkMaker('chatcmpl-1', 'x');

function render(chunks: ChatChunk[], body: Record<string, unknown> = {}) {
  const ids = counterIds();
  const req = parseResponsesRequest({ model: 'claude-sonnet-4-5', input: 'hi', stream: true, ...body });
  const renderer = new ResponsesStreamRenderer(
    responseShell(req, ids.next('resp'), 1_700_000_000, 'claude-sonnet-4-5'),
    ids,
  );
  const events: ResponseStreamEvent[] = [...renderer.start()];
  for (const c of chunks) events.push(...renderer.chunk(c));
  return { renderer, events };
}

const types = (events: ResponseStreamEvent[]) => events.map((e) => e.type);

const ANTHROPIC_TOOL_USE = anthropicToolUseChunks(chunkMaker('chatcmpl-1', 'x'));

describe('ResponsesStreamRenderer', () => {
  it("text then a tool call (Anthropic's recorded stream): OpenAI's event order, numbered from 0", () => {
    const { renderer, events } = render(ANTHROPIC_TOOL_USE);
    events.push(...renderer.end());
    expect(types(events)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));

    expect(events[0]).toMatchObject({
      response: { id: 'resp_1', object: 'response', status: 'in_progress', output: [], usage: null },
    });
    expect(events[2]).toEqual({
      type: 'response.output_item.added',
      sequence_number: 2,
      output_index: 0,
      item: { type: 'message', id: 'msg_2', role: 'assistant', status: 'in_progress', content: [] },
    });
    expect(events[3]).toEqual({
      type: 'response.content_part.added',
      sequence_number: 3,
      item_id: 'msg_2',
      output_index: 0,
      content_index: 0,
      part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
    });
    expect(events[4]).toEqual({
      type: 'response.output_text.delta',
      sequence_number: 4,
      item_id: 'msg_2',
      output_index: 0,
      content_index: 0,
      delta: 'Okay',
      logprobs: [],
    });
    expect(events[6]).toMatchObject({ text: "Okay, let's check the weather.", content_index: 0 });
    expect(events[8]).toMatchObject({ item: { id: 'msg_2', status: 'completed' } });
    expect(events[9]).toEqual({
      type: 'response.output_item.added',
      sequence_number: 9,
      output_index: 1,
      item: {
        type: 'function_call',
        id: 'fc_3',
        call_id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
        name: 'get_weather',
        arguments: '',
        status: 'in_progress',
      },
    });
    expect(events[10]).toEqual({
      type: 'response.function_call_arguments.delta',
      sequence_number: 10,
      item_id: 'fc_3',
      output_index: 1,
      delta: '{"location":',
    });
    expect(events[12]).toEqual({
      type: 'response.function_call_arguments.done',
      sequence_number: 12,
      item_id: 'fc_3',
      output_index: 1,
      name: 'get_weather',
      arguments: '{"location": "San Francisco, CA"}',
    });
    const completed = events[14].response;
    expect(completed).toEqual(renderer.response());
    expect(completed).toMatchObject({
      status: 'completed',
      incomplete_details: null,
      usage: {
        input_tokens: 472,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 89,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 561,
      },
      output: [
        {
          type: 'message',
          id: 'msg_2',
          status: 'completed',
          role: 'assistant',
          content: [
            { type: 'output_text', text: "Okay, let's check the weather.", annotations: [], logprobs: [] },
          ],
        },
        {
          type: 'function_call',
          id: 'fc_3',
          call_id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
          name: 'get_weather',
          arguments: '{"location": "San Francisco, CA"}',
          status: 'completed',
        },
      ],
    });
  });

  it('events are snapshots: later deltas do not change an event already rendered', () => {
    const { events } = render([chunk({ content: 'a' }), chunk({ content: 'b' })]);
    expect(events[2]).toMatchObject({ item: { content: [] } });
    expect(events[3]).toMatchObject({ part: { text: '' } });
  });

  it("Gemini's complete parallel calls in one chunk: one item per call, each closed before the next opens", () => {
    const { renderer, events } = render([
      chunk({
        tool_calls: [
          { index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '{"x":1}' } },
          { index: 1, id: 'call_b', type: 'function', function: { name: 'g', arguments: '{"y":2}' } },
        ],
      }),
      chunk({}, 'tool_calls'),
    ]);
    events.push(...renderer.end());
    expect(types(events).slice(2)).toEqual([
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(
      renderer.response()!.output.map((o) => [o.type, 'call_id' in o ? o.call_id : null, o.status]),
    ).toEqual([
      ['function_call', 'call_a', 'completed'],
      ['function_call', 'call_b', 'completed'],
    ]);
    // Usage absent from the stream: null, never invented.
    expect(renderer.response()!.usage).toBeNull();
  });

  it('the token limit ends it with response.incomplete and max_output_tokens', () => {
    const { renderer, events } = render([chunk({ content: 'Once upon' }, 'length')], {
      max_output_tokens: 16,
    });
    const end = renderer.end();
    events.push(...end);
    expect(types(end)).toEqual([
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.incomplete',
    ]);
    expect(end[2]).toMatchObject({ item: { status: 'incomplete' } });
    expect(end[3].response).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
      max_output_tokens: 16,
    });
  });

  it('a refusal is its own content part with refusal events', () => {
    const { renderer, events } = render([
      chunk({ refusal: "I can't" }),
      chunk({ refusal: ' help.' }, 'stop'),
    ]);
    events.push(...renderer.end());
    expect(types(events).slice(2)).toEqual([
      'response.output_item.added',
      'response.content_part.added',
      'response.refusal.delta',
      'response.refusal.delta',
      'response.refusal.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(renderer.response()!.output[0]).toMatchObject({
      content: [{ type: 'refusal', refusal: "I can't help." }],
    });
  });

  it('an empty answer still has its message (as the JSON form has)', () => {
    const { renderer } = render([chunk({}, 'stop')]);
    const end = renderer.end();
    expect(types(end)).toEqual([
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(renderer.response()!.output).toHaveLength(1);
  });

  it('a cut after the first bytes: response.failed with the error and what was produced, items incomplete', () => {
    const { renderer, events } = render([chunk({ content: 'partial' })]);
    const failed = renderer.fail({ code: 'upstream_error', message: 'Stream interrupted: socket hang up' });
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      type: 'response.failed',
      sequence_number: events.length,
      response: {
        status: 'failed',
        error: { code: 'upstream_error', message: 'Stream interrupted: socket hang up' },
        output: [
          { type: 'message', status: 'incomplete', content: [{ type: 'output_text', text: 'partial' }] },
        ],
      },
    });
  });
});
