import type { ChatRequest } from '@app/providers';
import { chatPromptTokenBound, embeddingTokenBound, PROMPT_BOUND } from './prompt-bound';

const user = (content: ChatRequest['messages'][number]['content']): ChatRequest => ({
  model: 'm',
  messages: [{ role: 'user', content } as ChatRequest['messages'][number]],
});

describe('prompt token upper bound', () => {
  const frame = PROMPT_BOUND.perRequest + PROMPT_BOUND.perMessage + 'user'.length;

  it('counts UTF-8 bytes, not characters: CJK is 3 bytes a character, emoji 4', () => {
    expect(chatPromptTokenBound(user('hello'))).toBe(frame + 5);
    expect(chatPromptTokenBound(user('预算'))).toBe(frame + 6);
    expect(chatPromptTokenBound(user('😀'))).toBe(frame + 4);
    // every byte-level BPE token covers at least one byte, so no tokenizer can exceed this
    const digits = '1234567890'.repeat(10);
    expect(chatPromptTokenBound(user(digits))).toBeGreaterThanOrEqual(digits.length);
  });

  it('adds a fixed bound per image part, whatever the URL', () => {
    const parts = [
      { type: 'text' as const, text: 'look' },
      { type: 'image_url' as const, image_url: { url: 'data:image/png;base64,' + 'A'.repeat(100_000) } },
    ];
    expect(chatPromptTokenBound(user(parts))).toBe(frame + 4 + PROMPT_BOUND.perImage);
  });

  it('counts tool definitions, tool calls, tool results and the response schema', () => {
    const tool = {
      type: 'function' as const,
      function: { name: 'get_weather', parameters: { type: 'object' } },
    };
    const req: ChatRequest = {
      model: 'm',
      messages: [
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"q":"x"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
      ],
      tools: [tool],
      response_format: { type: 'json_object' },
    };
    const expected =
      PROMPT_BOUND.perRequest +
      (PROMPT_BOUND.perMessage + 4 + 8) +
      (PROMPT_BOUND.perMessage + 9 + PROMPT_BOUND.perMessage + 2 + 11 + 9) +
      (PROMPT_BOUND.perMessage + 4 + 5 + 2) +
      PROMPT_BOUND.toolsPresent +
      PROMPT_BOUND.perTool +
      Buffer.byteLength(JSON.stringify(tool)) +
      Buffer.byteLength('{"type":"json_object"}');
    expect(chatPromptTokenBound(req)).toBe(expected);
  });

  it('counts thinking blocks sent back and images inside tool results', () => {
    const req: ChatRequest = {
      model: 'm',
      messages: [
        {
          role: 'assistant',
          content: null,
          thinking_blocks: [
            { type: 'thinking', thinking: 'hmm', signature: 'not billed' },
            { type: 'redacted_thinking', data: 'xyz' },
          ],
        },
        {
          role: 'tool',
          tool_call_id: 'c',
          content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }],
        },
      ],
    };
    const expected =
      PROMPT_BOUND.perRequest +
      (PROMPT_BOUND.perMessage + 9 + PROMPT_BOUND.perMessage + 3 + PROMPT_BOUND.perMessage + 3) +
      (PROMPT_BOUND.perMessage + 4 + PROMPT_BOUND.perImage + 1);
    expect(chatPromptTokenBound(req)).toBe(expected);
  });

  it('embeddings: bytes of each text, token ids as given', () => {
    expect(embeddingTokenBound({ model: 'e', input: '预算' })).toBe(7);
    expect(embeddingTokenBound({ model: 'e', input: ['ab', 'c'] })).toBe(5);
    expect(embeddingTokenBound({ model: 'e', input: [[1, 2, 3], [4]] })).toBe(4);
  });
});
