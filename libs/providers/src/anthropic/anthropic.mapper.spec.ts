import type { ChatRequest, ThinkingBlock } from '../openai-types';
import { toolConversation } from './__fixtures__/tool-conversation';
import {
  ANTHROPIC_DEFAULT_MAX_TOKENS,
  fromResponse,
  toFinishReason,
  toRequest,
  toUsage,
} from './anthropic.mapper';
import type { AnthropicMessage } from './anthropic.types';

const base: ChatRequest = { model: 'claude-3-5-haiku-latest', messages: [{ role: 'user', content: 'Hi' }] };

describe('anthropic.mapper toRequest', () => {
  it('moves system and developer messages to `system`, turns into blocks, tools to input_schema', () => {
    const out = toRequest(toolConversation, { stream: false });
    expect(out.system).toBe('You are terse.\n\nUse metric units.');
    expect(out.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is the weather where this photo was taken?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/photo.jpg' } },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Let me check.' },
          { type: 'tool_use', id: 'call_42', name: 'get_weather', input: { city: 'Paris' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_42', content: '{"temp_c":21}' },
          { type: 'text', text: 'And tomorrow?' },
        ],
      },
    ]);
    expect(out.tools).toEqual([
      {
        name: 'get_weather',
        description: 'Current weather',
        input_schema: toolConversation.tools![0].function.parameters,
      },
    ]);
    expect(out.stream).toBeUndefined();
  });

  it('requires max_tokens: max_completion_tokens, then max_tokens, then the default', () => {
    expect(toRequest(base, { stream: false }).max_tokens).toBe(ANTHROPIC_DEFAULT_MAX_TOKENS);
    expect(toRequest(base, { stream: false, defaultMaxTokens: 1000 }).max_tokens).toBe(1000);
    expect(toRequest({ ...base, max_tokens: 50 }, { stream: false }).max_tokens).toBe(50);
    expect(
      toRequest({ ...base, max_tokens: 50, max_completion_tokens: 70 }, { stream: false }).max_tokens,
    ).toBe(70);
  });

  it('maps stop, temperature (clamped to 1), top_p (only without temperature), user and stream', () => {
    const out = toRequest(
      { ...base, stop: 'END', temperature: 1.6, top_p: 0.9, user: 'u-1' },
      { stream: true },
    );
    expect(out).toMatchObject({
      stop_sequences: ['END'],
      temperature: 1,
      metadata: { user_id: 'u-1' },
      stream: true,
    });
    expect(out.top_p).toBeUndefined();
    expect(toRequest({ ...base, stop: ['a', 'b'], top_p: 0.5 }, { stream: false })).toMatchObject({
      stop_sequences: ['a', 'b'],
      top_p: 0.5,
    });
    expect(toRequest({ ...base, temperature: 0.3 }, { stream: false }).temperature).toBe(0.3);
  });

  it.each([
    ['auto', { type: 'auto' }],
    ['required', { type: 'any' }],
    ['none', { type: 'none' }],
    [
      { type: 'function', function: { name: 'get_weather' } },
      { type: 'tool', name: 'get_weather' },
    ],
  ])('tool_choice %j → %j', (choice, expected) => {
    const req = { ...toolConversation, tool_choice: choice as ChatRequest['tool_choice'] };
    expect(toRequest(req, { stream: false }).tool_choice).toEqual(expected);
  });

  it('parallel_tool_calls: false → disable_parallel_tool_use', () => {
    const out = toRequest(
      { ...toolConversation, tool_choice: 'auto', parallel_tool_calls: false },
      { stream: false },
    );
    expect(out.tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
  });

  it('response_format json_object / json_schema → a JSON-only instruction appended to system (no native mode)', () => {
    const obj = toRequest({ ...base, response_format: { type: 'json_object' } }, { stream: false });
    expect(obj.system).toMatch(/valid JSON object/);
    const schema = { type: 'object', properties: { a: { type: 'number' } } };
    const sch = toRequest(
      {
        ...toolConversation,
        response_format: { type: 'json_schema', json_schema: { name: 'answer', schema } },
      },
      { stream: false },
    );
    expect((sch.system as string).startsWith('You are terse.\n\nUse metric units.\n\n')).toBe(true);
    expect(sch.system).toContain(JSON.stringify(schema));
    expect(
      toRequest({ ...base, response_format: { type: 'text' } }, { stream: false }).system,
    ).toBeUndefined();
  });

  it('invalid tool-call arguments become an empty input object', () => {
    const req: ChatRequest = {
      ...base,
      messages: [
        { role: 'user', content: 'x' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: 'not json' } }],
        },
      ],
    };
    expect(toRequest(req, { stream: false }).messages[1].content).toEqual([
      { type: 'tool_use', id: 'c', name: 'f', input: {} },
    ]);
  });
});

describe('anthropic.mapper fromResponse', () => {
  const message: AnthropicMessage = {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-3-5-haiku-20241022',
    content: [
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
    ],
    stop_reason: 'tool_use',
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 4, cache_creation_input_tokens: 2 },
  };

  it('text and tool_use blocks → content and tool_calls; usage counts cached prompt tokens', () => {
    expect(fromResponse('anthropic', message, 1700000000)).toEqual({
      id: 'msg_1',
      object: 'chat.completion',
      created: 1700000000,
      model: 'claude-3-5-haiku-20241022',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Checking.',
            tool_calls: [
              {
                id: 'toolu_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              },
            ],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: {
        prompt_tokens: 16,
        completion_tokens: 5,
        total_tokens: 21,
        prompt_tokens_details: { cached_tokens: 4 },
        cache_creation_input_tokens: 2,
      },
    });
  });

  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    ['pause_turn', 'stop'],
  ] as const)('stop_reason %s → %s', (reason, finish) => {
    expect(toFinishReason(reason)).toBe(finish);
  });

  it('usage without cache fields', () => {
    expect(toUsage({ input_tokens: 3, output_tokens: 4 })).toEqual({
      prompt_tokens: 3,
      completion_tokens: 4,
      total_tokens: 7,
    });
  });
});

describe('anthropic.mapper tool_choice without tools', () => {
  it('is not sent (Anthropic refuses tool_choice without tools)', () => {
    expect(toRequest({ ...base, tool_choice: 'none' }, { stream: false }).tool_choice).toBeUndefined();
  });
});

/** Thinking blocks as Claude returns them and wants them back: the same shape both ways. */
const SIGNED_THINKING: ThinkingBlock[] = [
  { type: 'thinking', thinking: 'The bug is in parse().', signature: 'sig-1' },
  { type: 'redacted_thinking', data: 'opaque' },
];

describe('anthropic.mapper: what a Messages API client sent reaches Claude unchanged', () => {
  const eph = { type: 'ephemeral' as const };
  const agentTurn: ChatRequest = {
    model: 'claude-sonnet-4-5',
    max_tokens: 2000,
    top_k: 40,
    thinking: { type: 'enabled', budget_tokens: 1024 },
    cache_control: { type: 'ephemeral', ttl: '1h' },
    messages: [
      {
        role: 'system',
        content: [
          { type: 'text', text: 'You are a coding agent.' },
          { type: 'text', text: 'Project rules.', cache_control: eph },
        ],
      },
      { role: 'user', content: [{ type: 'text', text: 'Fix the bug', cache_control: eph }] },
      {
        role: 'assistant',
        content: [{ type: 'text', text: 'Reading the file.' }],
        thinking_blocks: [...SIGNED_THINKING, { type: 'thinking', thinking: 'unsigned, from another model' }],
        tool_calls: [
          {
            id: 'toolu_01',
            type: 'function',
            function: { name: 'read_file', arguments: '{"path":"a.ts"}' },
            cache_control: eph,
          },
        ],
      },
      {
        role: 'tool',
        tool_call_id: 'toolu_01',
        is_error: true,
        cache_control: eph,
        content: [
          { type: 'text', text: 'not found' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
        ],
      },
    ],
    tools: [
      {
        type: 'function',
        function: { name: 'read_file', parameters: { type: 'object' } },
        cache_control: eph,
      },
    ],
  };

  it('keeps cache breakpoints, thinking blocks with signatures, tool ids, top_k and the thinking config', () => {
    const out = toRequest(agentTurn, { stream: true });
    expect(out.system).toEqual([
      { type: 'text', text: 'You are a coding agent.' },
      { type: 'text', text: 'Project rules.', cache_control: eph },
    ]);
    expect(out.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Fix the bug', cache_control: eph }] },
      {
        role: 'assistant',
        content: [
          ...SIGNED_THINKING,
          { type: 'text', text: 'Reading the file.' },
          {
            type: 'tool_use',
            id: 'toolu_01',
            name: 'read_file',
            input: { path: 'a.ts' },
            cache_control: eph,
          },
        ],
      },
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: 'toolu_01',
            is_error: true,
            cache_control: eph,
            content: [
              { type: 'text', text: 'not found' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
            ],
          },
        ],
      },
    ]);
    expect(out.tools).toEqual([{ name: 'read_file', input_schema: { type: 'object' }, cache_control: eph }]);
    expect(out).toMatchObject({
      top_k: 40,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      cache_control: { type: 'ephemeral', ttl: '1h' },
      max_tokens: 2000,
    });
  });

  it('a system prompt with breakpoints is sent as blocks, with the JSON instruction as the last block', () => {
    const out = toRequest({ ...agentTurn, response_format: { type: 'json_object' } }, { stream: false });
    const system = out.system as { text: string }[];
    expect(system).toHaveLength(3);
    expect(system[2].text).toMatch(/valid JSON object/);
  });

  it('thinking blocks and cache usage come back: thinking_blocks, cache_creation_input_tokens', () => {
    const res = fromResponse(
      'anthropic',
      {
        id: 'msg_2',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5',
        content: [...SIGNED_THINKING, { type: 'text', text: 'Done.' }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: {
          input_tokens: 10,
          output_tokens: 3,
          cache_creation_input_tokens: 100,
          cache_read_input_tokens: 0,
        },
      } as AnthropicMessage,
      1,
    );
    expect(res.choices[0].message).toEqual({
      role: 'assistant',
      content: 'Done.',
      thinking_blocks: SIGNED_THINKING,
    });
    expect(res.usage).toEqual({
      prompt_tokens: 110,
      completion_tokens: 3,
      total_tokens: 113,
      cache_creation_input_tokens: 100,
    });
  });
});
