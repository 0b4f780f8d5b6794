import { AtpError } from '@app/common';
import {
  countTokensPrompt,
  parseCountTokensRequest,
  parseMessagesRequest,
  toCanonical,
} from './messages-request';

const eph = { type: 'ephemeral' as const };

/** A coding agent's turn: cached system blocks, tools, a tool-use round trip with thinking. */
const agentTurn = {
  model: 'claude-sonnet-4-5',
  max_tokens: 4096,
  system: [
    { type: 'text', text: 'You are a coding agent.' },
    { type: 'text', text: 'Repository rules.', cache_control: eph },
  ],
  messages: [
    { role: 'user', content: 'Fix the failing test' },
    {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'Run the tests first.', signature: 'sig-1' },
        { type: 'text', text: 'Running the tests.' },
        { type: 'tool_use', id: 'toolu_01', name: 'bash', input: { command: 'npm test' } },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_01', content: '1 failed', is_error: true },
        {
          type: 'tool_result',
          tool_use_id: 'toolu_02',
          content: [
            { type: 'text', text: 'screenshot' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
          ],
          cache_control: eph,
        },
        { type: 'text', text: 'Go on.' },
      ],
    },
  ],
  tools: [
    {
      name: 'bash',
      description: 'Run a command',
      input_schema: { type: 'object', properties: { command: { type: 'string' } } },
      cache_control: eph,
    },
  ],
  tool_choice: { type: 'auto', disable_parallel_tool_use: true },
  thinking: { type: 'enabled', budget_tokens: 2048 },
  stop_sequences: ['END'],
  temperature: 1,
  top_k: 5,
  metadata: { user_id: 'dev-7' },
  stream: true,
};

describe('Messages request → canonical request', () => {
  it('carries system blocks, thinking, tool ids, tool results (text, images, errors) and cache breakpoints', () => {
    expect(toCanonical(parseMessagesRequest(agentTurn))).toEqual({
      model: 'claude-sonnet-4-5',
      max_completion_tokens: 4096,
      messages: [
        {
          role: 'system',
          content: [
            { type: 'text', text: 'You are a coding agent.' },
            { type: 'text', text: 'Repository rules.', cache_control: eph },
          ],
        },
        { role: 'user', content: 'Fix the failing test' },
        {
          role: 'assistant',
          content: 'Running the tests.',
          thinking_blocks: [{ type: 'thinking', thinking: 'Run the tests first.', signature: 'sig-1' }],
          tool_calls: [
            {
              id: 'toolu_01',
              type: 'function',
              function: { name: 'bash', arguments: '{"command":"npm test"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_01', content: '1 failed', is_error: true },
        {
          role: 'tool',
          tool_call_id: 'toolu_02',
          cache_control: eph,
          content: [
            { type: 'text', text: 'screenshot' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          ],
        },
        { role: 'user', content: [{ type: 'text', text: 'Go on.' }] },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'bash',
            description: 'Run a command',
            parameters: { type: 'object', properties: { command: { type: 'string' } } },
          },
          cache_control: eph,
        },
      ],
      tool_choice: 'auto',
      parallel_tool_calls: false,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      stop: ['END'],
      temperature: 1,
      top_k: 5,
      user: 'dev-7',
      stream: true,
    });
  });

  it.each([
    [{ type: 'any' }, { tool_choice: 'required' }],
    [{ type: 'none' }, { tool_choice: 'none' }],
    [{ type: 'tool', name: 'bash' }, { tool_choice: { type: 'function', function: { name: 'bash' } } }],
  ])('tool_choice %j → %j', (choice, expected) => {
    const out = toCanonical(parseMessagesRequest({ ...agentTurn, tool_choice: choice }));
    expect({ tool_choice: out.tool_choice }).toEqual(expected);
    expect(out.parallel_tool_calls).toBeUndefined();
  });

  it('a URL image stays a URL; a string system prompt stays a string', () => {
    const out = toCanonical(
      parseMessagesRequest({
        model: 'gpt-4.1',
        max_tokens: 10,
        system: 'Be brief.',
        messages: [
          {
            role: 'user',
            content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }],
          },
        ],
      }),
    );
    expect(out.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] },
    ]);
  });

  it('count_tokens takes the prompt without max_tokens', () => {
    const { max_tokens: _m, stream: _s, ...prompt } = agentTurn;
    const out = countTokensPrompt(parseCountTokensRequest(prompt));
    expect(out.messages).toHaveLength(6);
    expect(out.max_completion_tokens).toBeUndefined();
    expect(out.tools).toHaveLength(1);
  });
});

describe('Messages request validation: a 400 naming the field, as Anthropic does', () => {
  const bad = (body: unknown): AtpError => {
    try {
      parseMessagesRequest(body);
    } catch (err) {
      return err as AtpError;
    }
    throw new Error('accepted');
  };
  const base = { model: 'gpt-4.1', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };

  it.each([
    [{ ...base, max_tokens: undefined }, 'max_tokens: Field required'],
    [{ ...base, max_tokens: 0 }, 'max_tokens: Too small: expected number to be >=1'],
    [{ ...base, messages: [] }, 'messages: Too small: expected array to have >=1 items'],
    [{ ...base, temperature: 1.5 }, 'temperature: Too big: expected number to be <=1'],
    [
      { ...base, messages: [{ role: 'user', content: [{ type: 'document', source: {} }] }] },
      "messages.0.content.0.type: Invalid discriminator value. Expected 'text' | 'image' | 'tool_result'",
    ],
    [
      { ...base, messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text' }] }] },
      'messages.0.content.1.text: Field required',
    ],
    [
      { ...base, messages: [{ role: 'assistant', content: [{ type: 'thinking', thinking: 'x' }] }] },
      'messages.0.content.0.signature: Field required',
    ],
    [
      { ...base, tools: [{ type: 'web_search_20250305', name: 'web_search' }] },
      'tools.0.type: only client tools are supported (type "custom" or none); Anthropic server tools are not',
    ],
  ])('%j → %s', (body, message) => {
    const err = bad(body);
    expect(err).toBeInstanceOf(AtpError);
    expect({ status: err.status, message: err.message }).toEqual({ status: 400, message });
  });

  it('a body that is not an object', () => {
    expect(bad([1, 2]).message).toBe('The request body must be a JSON object');
  });
});
