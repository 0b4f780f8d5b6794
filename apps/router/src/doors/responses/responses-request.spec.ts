import { AtpError } from '@app/common';
import { parseResponsesRequest } from './responses-request';

function refusal(body: unknown): { status: number; code: string; param: string | null; message: string } {
  try {
    parseResponsesRequest(body);
  } catch (err) {
    const e = err as AtpError;
    return { status: e.status, code: e.code, param: e.param, message: e.message };
  }
  throw new Error('accepted');
}

describe('parseResponsesRequest', () => {
  it('a string input is one user message; OpenAI defaults fill the rest', () => {
    expect(parseResponsesRequest({ model: 'gpt-4o-mini', input: 'Hello' })).toEqual({
      model: 'gpt-4o-mini',
      input: [{ type: 'message', role: 'user', content: 'Hello' }],
      instructions: null,
      tools: [],
      tool_choice: null,
      text_format: { type: 'text' },
      max_output_tokens: null,
      temperature: null,
      top_p: null,
      parallel_tool_calls: null,
      metadata: {},
      user: null,
      stream: false,
      store: true,
      previous_response_id: null,
    });
  });

  it('reads items: messages (with and without type), parts, function calls and outputs; drops reasoning', () => {
    const req = parseResponsesRequest({
      model: 'm',
      input: [
        { role: 'developer', content: 'be brief' },
        {
          type: 'message',
          role: 'user',
          content: [
            { type: 'input_text', text: 'what is this?' },
            { type: 'input_image', image_url: 'https://x.test/a.png', detail: 'low' },
          ],
        },
        { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'opaque' },
        {
          type: 'message',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'a cat', annotations: [] }],
        },
        {
          type: 'function_call',
          call_id: 'call_1',
          name: 'look',
          arguments: '{"x":1}',
          id: 'fc_1',
          status: 'completed',
        },
        { type: 'function_call_output', call_id: 'call_1', output: [{ type: 'input_text', text: 'seen' }] },
      ],
    });
    expect(req.input).toEqual([
      { type: 'message', role: 'developer', content: 'be brief' },
      {
        type: 'message',
        role: 'user',
        content: [
          { type: 'input_text', text: 'what is this?' },
          { type: 'input_image', image_url: 'https://x.test/a.png', detail: 'low' },
        ],
      },
      {
        type: 'message',
        role: 'assistant',
        content: [{ type: 'output_text', text: 'a cat', annotations: [] }],
      },
      { type: 'function_call', call_id: 'call_1', name: 'look', arguments: '{"x":1}' },
      { type: 'function_call_output', call_id: 'call_1', output: [{ type: 'input_text', text: 'seen' }] },
    ]);
  });

  it('reads tools, tool_choice, text.format and the sampling fields', () => {
    // Fields the parser keeps as they came.
    const asSent = {
      max_output_tokens: 300,
      temperature: 0.2,
      top_p: 0.9,
      parallel_tool_calls: false,
      metadata: { team: 'a' },
      user: 'u1',
      stream: true,
      store: false,
      previous_response_id: 'resp_1',
    };
    const req = parseResponsesRequest({
      model: 'm',
      input: 'hi',
      instructions: 'You are terse.',
      tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object' }, strict: true }],
      tool_choice: { type: 'function', name: 'get_weather' },
      text: { format: { type: 'json_schema', name: 'w', schema: { type: 'object' } }, verbosity: 'low' },
      ...asSent,
      reasoning: { effort: 'medium', summary: 'auto' },
      include: ['reasoning.encrypted_content'],
      truncation: 'auto',
      top_logprobs: 0,
      background: false,
    });
    expect(req).toMatchObject({
      instructions: 'You are terse.',
      tools: [
        {
          type: 'function',
          name: 'get_weather',
          description: null,
          parameters: { type: 'object' },
          strict: true,
        },
      ],
      tool_choice: { type: 'function', name: 'get_weather' },
      text_format: { type: 'json_schema', name: 'w', schema: { type: 'object' }, strict: null },
      ...asSent,
    });
  });

  it.each([
    [
      { model: 'm', input: 'x', tools: [{ type: 'web_search' }] },
      'tools[0].type',
      /hosted tool 'web_search'/,
    ],
    [
      { model: 'm', input: 'x', tools: [{ type: 'function', name: 'a' }, { type: 'file_search' }] },
      'tools[1].type',
      /file_search/,
    ],
    [{ model: 'm', input: 'x', background: true }, 'background', /background/],
    [{ model: 'm', input: 'x', conversation: 'conv_1' }, 'conversation', /previous_response_id/],
    [{ model: 'm', input: 'x', prompt: { id: 'pmpt_1' } }, 'prompt', /templates/],
    [{ model: 'm', input: 'x', top_logprobs: 3 }, 'top_logprobs', /log probabilities/],
    [
      { model: 'm', input: 'x', tool_choice: { type: 'web_search_preview' } },
      'tool_choice',
      /web_search_preview/,
    ],
    [
      { model: 'm', input: [{ type: 'item_reference', id: 'msg_1' }] },
      'input[0].type',
      /previous_response_id/,
    ],
    [{ model: 'm', input: [{ type: 'web_search_call', id: 'ws_1' }] }, 'input[0].type', /web_search_call/],
    [
      { model: 'm', input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] },
      'input[0].content[0].type',
      /files are not supported/,
    ],
    [
      { model: 'm', input: [{ role: 'system', content: [{ type: 'input_image', image_url: 'https://x' }] }] },
      'input[0].content[0].type',
      /system message part 'input_image'/,
    ],
    [
      {
        model: 'm',
        input: [
          { type: 'function_call_output', call_id: 'c', output: [{ type: 'input_image', image_url: 'x' }] },
        ],
      },
      'input[0].output[0].type',
      /only input_text/,
    ],
  ])('refuses what it cannot honour with a 400 naming the field (%#)', (body, param, message) => {
    const r = refusal(body);
    expect(r).toMatchObject({ status: 400, code: 'unsupported_parameter', param });
    expect(r.message).toMatch(message);
  });

  it.each([
    [{ input: 'x' }, 'model', "Invalid value for 'model'"],
    [{ model: 'm' }, 'input', "Missing required parameter: 'input'"],
    [{ model: 'm', input: [] }, 'input', "Missing required parameter: 'input'"],
    [{ model: 'm', input: 'x', temperature: 3 }, 'temperature', "Invalid value for 'temperature'"],
    [{ model: 'm', input: 'x', max_output_tokens: 0 }, 'max_output_tokens', 'Invalid value'],
    [
      { model: 'm', input: [{ role: 'user', content: [{ type: 'input_text' }] }] },
      'input[0].content[0].text',
      'Invalid value',
    ],
    [
      { model: 'm', input: [{ type: 'function_call', name: 'f', arguments: '{}' }] },
      'input[0].call_id',
      'Invalid value',
    ],
    [{ model: 'm', input: [{ role: 'robot', content: 'x' }] }, 'input[0].role', 'Invalid value'],
    [{ model: 'm', input: [42] }, 'input[0]', 'must be an object'],
    [
      { model: 'm', input: 'x', tools: [{ type: 'function', name: 'bad name' }] },
      'tools[0].name',
      'letters, digits',
    ],
    [
      { model: 'm', input: 'x', tool_choice: { type: 'function', name: 'nope' } },
      'tool_choice',
      "'nope', which is not in tools",
    ],
    [
      { model: 'm', input: 'x', text: { format: { type: 'json_schema', name: 'x' } } },
      'text.format.schema',
      'Invalid value',
    ],
    [
      {
        model: 'm',
        input: 'x',
        metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])),
      },
      'metadata',
      'at most 16 keys',
    ],
  ])('a malformed field is a 400 invalid_request naming it (%#)', (body, param, message) => {
    const r = refusal(body);
    expect(r).toMatchObject({ status: 400, param });
    expect(r.message).toContain(message);
  });

  it('a body that is not an object is a 400', () => {
    expect(refusal([1, 2])).toMatchObject({ status: 400, code: 'invalid_request', param: null });
  });

  it('previous_response_id alone (no new input) is accepted', () => {
    expect(parseResponsesRequest({ model: 'm', previous_response_id: 'resp_1' }).input).toEqual([]);
  });
});
