import type { ChatResponse } from '@app/providers';
import { parseResponsesRequest } from './responses-request';
import { fromChatResponse, randomIds, type ResponseIds, responseShell } from './response-object';

function counterIds(): ResponseIds {
  let n = 0;
  return { next: (prefix) => `${prefix}_${++n}` };
}

const completion = (
  message: ChatResponse['choices'][0]['message'],
  finish: ChatResponse['choices'][0]['finish_reason'],
): ChatResponse => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, message, finish_reason: finish }],
  usage: {
    prompt_tokens: 21,
    completion_tokens: 7,
    total_tokens: 28,
    prompt_tokens_details: { cached_tokens: 5 },
    completion_tokens_details: { reasoning_tokens: 2 },
  },
});

describe('the response object', () => {
  const req = parseResponsesRequest({
    model: 'gpt-4o-mini',
    input: 'hi',
    instructions: 'Be kind.',
    metadata: { k: 'v' },
    tools: [{ type: 'function', name: 'f', parameters: { type: 'object' } }],
  });

  it('a text answer: one completed message, usage with its details, request fields echoed', () => {
    const ids = counterIds();
    const shell = responseShell(req, ids.next('resp'), 1_700_000_000, 'gpt-4o-mini');
    expect(
      fromChatResponse(shell, completion({ role: 'assistant', content: 'Hello.' }, 'stop'), ids),
    ).toEqual({
      id: 'resp_1',
      object: 'response',
      created_at: 1_700_000_000,
      status: 'completed',
      background: false,
      error: null,
      incomplete_details: null,
      instructions: 'Be kind.',
      max_output_tokens: null,
      metadata: { k: 'v' },
      model: 'gpt-4o-mini',
      output: [
        {
          type: 'message',
          id: 'msg_2',
          role: 'assistant',
          status: 'completed',
          content: [{ type: 'output_text', text: 'Hello.', annotations: [], logprobs: [] }],
        },
      ],
      parallel_tool_calls: true,
      previous_response_id: null,
      reasoning: { effort: null, summary: null },
      store: true,
      temperature: 1,
      text: { format: { type: 'text' } },
      tool_choice: 'auto',
      tools: [
        { type: 'function', name: 'f', description: null, parameters: { type: 'object' }, strict: null },
      ],
      top_p: 1,
      truncation: 'disabled',
      usage: {
        input_tokens: 21,
        input_tokens_details: { cached_tokens: 5 },
        output_tokens: 7,
        output_tokens_details: { reasoning_tokens: 2 },
        total_tokens: 28,
      },
      user: null,
    });
  });

  it('tool calls become function_call items after the text; their call ids are the vendor ids', () => {
    const ids = counterIds();
    const res = fromChatResponse(
      responseShell(req, ids.next('resp'), 1, 'm'),
      completion(
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_a', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
            { id: 'call_b', type: 'function', function: { name: 'f', arguments: '{}' } },
          ],
        },
        'tool_calls',
      ),
      ids,
    );
    expect(res.status).toBe('completed');
    expect(res.output).toEqual([
      {
        type: 'function_call',
        id: 'fc_2',
        call_id: 'call_a',
        name: 'f',
        arguments: '{"a":1}',
        status: 'completed',
      },
      {
        type: 'function_call',
        id: 'fc_3',
        call_id: 'call_b',
        name: 'f',
        arguments: '{}',
        status: 'completed',
      },
    ]);
  });

  it('length → incomplete (max_output_tokens); content_filter → incomplete (content_filter); refusal part', () => {
    const ids = counterIds();
    const shell = responseShell(req, 'resp_x', 1, 'm');
    const cut = fromChatResponse(shell, completion({ role: 'assistant', content: 'Once' }, 'length'), ids);
    expect(cut).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
    expect(cut.output[0].status).toBe('incomplete');
    const filtered = fromChatResponse(
      shell,
      completion({ role: 'assistant', content: null, refusal: 'No.' }, 'content_filter'),
      ids,
    );
    expect(filtered).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'content_filter' },
    });
    expect(filtered.output[0]).toMatchObject({ content: [{ type: 'refusal', refusal: 'No.' }] });
  });

  it('random ids have OpenAI’s shape', () => {
    expect(randomIds.next('resp')).toMatch(/^resp_[0-9a-f]{48}$/);
    expect(randomIds.next('resp')).not.toBe(randomIds.next('resp'));
  });
});
