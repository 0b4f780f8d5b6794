import { toolConversation } from '../anthropic/__fixtures__/tool-conversation';
import type { ChatRequest } from '../openai-types';
import { toRequest } from './openai.mapper';

const eph = { type: 'ephemeral' as const };

describe('openai.mapper toRequest', () => {
  it('an OpenAI request goes out as it came, with the stream flags set', () => {
    expect(toRequest(toolConversation, false)).toEqual(toolConversation);
    expect(toRequest({ ...toolConversation, stream: true }, true)).toEqual({
      ...toolConversation,
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('leaves out the Anthropic extensions OpenAI refuses: thinking, top_k, cache_control, is_error', () => {
    const req: ChatRequest = {
      model: 'gpt-4.1',
      top_k: 5,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      cache_control: eph,
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'sys', cache_control: eph }] },
        { role: 'user', content: [{ type: 'text', text: 'hi', cache_control: eph }] },
        {
          role: 'assistant',
          content: 'calling',
          thinking_blocks: [{ type: 'thinking', thinking: 'hmm', signature: 's' }],
          tool_calls: [
            { id: 'toolu_1', type: 'function', function: { name: 'f', arguments: '{}' }, cache_control: eph },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'boom', is_error: true, cache_control: eph },
      ],
      tools: [{ type: 'function', function: { name: 'f' }, cache_control: eph }],
    };
    expect(toRequest(req, false)).toEqual({
      model: 'gpt-4.1',
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'sys' }] },
        { role: 'user', content: [{ type: 'text', text: 'hi' }] },
        {
          role: 'assistant',
          content: 'calling',
          tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'boom' },
      ],
      tools: [{ type: 'function', function: { name: 'f' } }],
    });
  });

  it('images in tool results follow the tool messages in a user message (OpenAI takes images only from users)', () => {
    const shot = { type: 'image_url' as const, image_url: { url: 'data:image/png;base64,AAAA' } };
    const req: ChatRequest = {
      model: 'gpt-4.1',
      messages: [
        { role: 'user', content: 'screenshots please' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'a', type: 'function', function: { name: 'shot', arguments: '{}' } },
            { id: 'b', type: 'function', function: { name: 'shot', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'a', content: [{ type: 'text', text: 'first' }, shot] },
        { role: 'tool', tool_call_id: 'b', content: [shot] },
        { role: 'user', content: 'compare them' },
      ],
    };
    expect(toRequest(req, false).messages.slice(2)).toEqual([
      { role: 'tool', tool_call_id: 'a', content: [{ type: 'text', text: 'first' }] },
      { role: 'tool', tool_call_id: 'b', content: '' },
      { role: 'user', content: [shot, shot] },
      { role: 'user', content: 'compare them' },
    ]);
  });
});
