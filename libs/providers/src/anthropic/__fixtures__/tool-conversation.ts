import type { ChatRequest } from '../../openai-types';

/** A multi-turn conversation with a system prompt, an image, an assistant tool call and its result. */
export const toolConversation: ChatRequest = {
  model: 'claude-3-5-haiku-latest',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'developer', content: [{ type: 'text', text: 'Use metric units.' }] },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is the weather where this photo was taken?' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        { type: 'image_url', image_url: { url: 'https://example.com/photo.jpg' } },
      ],
    },
    {
      role: 'assistant',
      content: 'Let me check.',
      tool_calls: [
        { id: 'call_42', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'call_42', content: '{"temp_c":21}' },
    { role: 'user', content: 'And tomorrow?' },
  ],
  tools: [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Current weather',
        parameters: {
          type: 'object',
          properties: { city: { type: 'string' } },
          required: ['city'],
          additionalProperties: false,
        },
      },
    },
  ],
};
