import { AtpError } from '@app/common';
import { ChatRequestSchema } from '@app/providers';
import { parseResponsesRequest } from './responses-request';
import { toChatRequest } from './responses-to-chat';
import type { ConversationItem } from './responses.types';

const parse = (body: Record<string, unknown>) => parseResponsesRequest({ model: 'gpt-4o-mini', ...body });

describe('toChatRequest', () => {
  it('maps instructions, a string input and every option onto the canonical chat request', () => {
    const chat = toChatRequest(
      parse({
        instructions: 'Be terse.',
        input: 'Weather in Paris?',
        tools: [
          {
            type: 'function',
            name: 'get_weather',
            description: 'Forecast',
            parameters: { type: 'object' },
            strict: true,
          },
        ],
        tool_choice: 'required',
        parallel_tool_calls: false,
        text: { format: { type: 'json_schema', name: 'w', schema: { type: 'object' }, strict: true } },
        max_output_tokens: 200,
        temperature: 0.5,
        top_p: 0.8,
        user: 'u-1',
        stream: true,
        metadata: { a: 'b' },
      }),
      [],
    );
    expect(chat).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: 'Weather in Paris?' },
      ],
      stream: true,
      stream_options: { include_usage: true },
      max_completion_tokens: 200,
      temperature: 0.5,
      top_p: 0.8,
      user: 'u-1',
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Forecast',
            parameters: { type: 'object' },
            strict: true,
          },
        },
      ],
      parallel_tool_calls: false,
      tool_choice: 'required',
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'w', schema: { type: 'object' }, strict: true },
      },
    });
    // What the pipeline validates and every adapter reads.
    expect(ChatRequestSchema.parse(chat)).toEqual(chat);
  });

  it('a function call joins the assistant text before it; outputs become tool messages; images stay image parts', () => {
    const chat = toChatRequest(
      parse({
        input: [
          {
            role: 'user',
            content: [
              { type: 'input_text', text: 'Look:' },
              { type: 'input_image', image_url: 'data:image/png;base64,AAAA' },
            ],
          },
          { role: 'assistant', content: [{ type: 'output_text', text: 'Checking.' }] },
          { type: 'function_call', call_id: 'c1', name: 'look', arguments: '{"a":1}' },
          { type: 'function_call', call_id: 'c2', name: 'look', arguments: '{"a":2}' },
          { type: 'function_call_output', call_id: 'c1', output: 'one' },
          { type: 'function_call_output', call_id: 'c2', output: [{ type: 'input_text', text: 'two' }] },
          { type: 'function_call', call_id: 'c3', name: 'look', arguments: '{}' },
          { type: 'function_call_output', call_id: 'c3', output: 'three' },
        ],
      }),
      [],
    );
    expect(chat.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Look:' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
        ],
      },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'look', arguments: '{"a":1}' } },
          { id: 'c2', type: 'function', function: { name: 'look', arguments: '{"a":2}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'one' },
      { role: 'tool', tool_call_id: 'c2', content: [{ type: 'text', text: 'two' }] },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c3', type: 'function', function: { name: 'look', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 'c3', content: 'three' },
    ]);
    expect(() => ChatRequestSchema.parse(chat)).not.toThrow();
  });

  it('continues a stored conversation: history first, then this turn (new instructions only)', () => {
    const history: ConversationItem[] = [
      { type: 'message', role: 'user', content: 'My name is Ada.' },
      {
        type: 'message',
        role: 'assistant',
        content: [{ type: 'output_text', text: 'Hello Ada.', annotations: [] }],
        id: 'msg_1',
        status: 'completed',
      },
    ];
    const chat = toChatRequest(parse({ instructions: 'Now formal.', input: 'What is my name?' }), history);
    expect(chat.messages).toEqual([
      { role: 'system', content: 'Now formal.' },
      { role: 'user', content: 'My name is Ada.' },
      { role: 'assistant', content: 'Hello Ada.' },
      { role: 'user', content: 'What is my name?' },
    ]);
  });

  it('a function output may answer a call from the stored history', () => {
    const history: ConversationItem[] = [
      { type: 'message', role: 'user', content: 'weather?' },
      {
        type: 'function_call',
        call_id: 'call_9',
        name: 'w',
        arguments: '{}',
        id: 'fc_9',
        status: 'completed',
      },
    ];
    const chat = toChatRequest(
      parse({ input: [{ type: 'function_call_output', call_id: 'call_9', output: 'sunny' }] }),
      history,
    );
    expect(chat.messages.slice(1)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'w', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 'call_9', content: 'sunny' },
    ]);
  });

  it('a function output that answers no earlier call is a 400 naming its call_id', () => {
    let caught: unknown;
    try {
      toChatRequest(
        parse({
          input: [
            { role: 'user', content: 'x' },
            { type: 'function_call_output', call_id: 'zz', output: 'o' },
          ],
        }),
        [],
      );
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AtpError);
    expect(caught).toMatchObject({ status: 400, param: 'input[1].call_id' });
  });

  it('an assistant refusal stays a refusal; json_object maps to response_format', () => {
    const chat = toChatRequest(
      parse({
        input: [
          { role: 'user', content: 'x' },
          { role: 'assistant', content: [{ type: 'refusal', refusal: 'I cannot.' }] },
          { role: 'user', content: 'json please' },
        ],
        text: { format: { type: 'json_object' } },
      }),
      [],
    );
    expect(chat.messages[1]).toEqual({ role: 'assistant', content: null, refusal: 'I cannot.' });
    expect(chat.response_format).toEqual({ type: 'json_object' });
  });

  it('parallel_tool_calls without tools is not sent (OpenAI refuses it)', () => {
    expect(toChatRequest(parse({ input: 'x', parallel_tool_calls: true }), [])).not.toHaveProperty(
      'parallel_tool_calls',
    );
  });

  it('only instructions, no conversation: 400 on input', () => {
    expect(() => toChatRequest(parse({ instructions: 'x', previous_response_id: 'resp_1' }), [])).toThrow(
      "Missing required parameter: 'input'",
    );
  });
});
