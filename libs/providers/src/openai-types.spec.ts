import { ChatRequestSchema, EmbeddingRequestSchema } from './openai-types';

describe('ChatRequestSchema (the router validates request bodies with it)', () => {
  it('accepts a full OpenAI request with every message role, tools, images and response_format', () => {
    const body = {
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'sys' },
        { role: 'developer', content: [{ type: 'text', text: 'dev' }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'low' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'result' },
      ],
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.5,
      top_p: 1,
      max_completion_tokens: 100,
      stop: ['x'],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
      tool_choice: { type: 'function', function: { name: 'f' } },
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'n', schema: { type: 'object' }, strict: true },
      },
      user: 'u',
      seed: 1,
      unknown_field: 'is stripped',
    };
    const parsed = ChatRequestSchema.parse(body);
    expect(parsed.messages).toHaveLength(5);
    expect('unknown_field' in parsed).toBe(false);
  });

  it.each([
    ['no messages', { model: 'm', messages: [] }],
    ['unknown role', { model: 'm', messages: [{ role: 'robot', content: 'x' }] }],
    ['tool message without tool_call_id', { model: 'm', messages: [{ role: 'tool', content: 'x' }] }],
    ['temperature above 2', { model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: 3 }],
    [
      'five stop sequences',
      { model: 'm', messages: [{ role: 'user', content: 'x' }], stop: ['a', 'b', 'c', 'd', 'e'] },
    ],
    ['bad tool_choice', { model: 'm', messages: [{ role: 'user', content: 'x' }], tool_choice: 'always' }],
    ['n above 8', { model: 'm', messages: [{ role: 'user', content: 'x' }], n: 9 }],
    ['n of 0', { model: 'm', messages: [{ role: 'user', content: 'x' }], n: 0 }],
  ])('rejects %s', (_why, body) => {
    expect(ChatRequestSchema.safeParse(body).success).toBe(false);
  });
});

describe('EmbeddingRequestSchema', () => {
  it('accepts strings, string arrays and token arrays; rejects empty input', () => {
    for (const input of ['a', ['a', 'b'], [1, 2], [[1], [2, 3]]]) {
      expect(EmbeddingRequestSchema.safeParse({ model: 'e', input }).success).toBe(true);
    }
    expect(EmbeddingRequestSchema.safeParse({ model: 'e', input: [] }).success).toBe(false);
  });
});
