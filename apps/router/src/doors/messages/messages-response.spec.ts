import type { ChatResponse } from '@app/providers';
import { THINKING_MESSAGES_USAGE, THINKING_USAGE } from './__fixtures__/thinking-usage';
import { anthropicErrorType, toAnthropicError } from './messages-errors';
import { messageId, toMessagesResponse, toMessagesUsage, toStopReason } from './messages-response';

const answer = (
  message: ChatResponse['choices'][0]['message'],
  finish: ChatResponse['choices'][0]['finish_reason'],
) =>
  ({
    id: 'chatcmpl-9',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4.1',
    choices: [{ index: 0, message, finish_reason: finish }],
    usage: { prompt_tokens: 30, completion_tokens: 7, total_tokens: 37 },
  }) as ChatResponse;

describe('canonical answer → Messages API answer', () => {
  it('thinking, text and tool calls become content blocks in that order; ids and inputs are kept', () => {
    const res = answer(
      {
        role: 'assistant',
        content: 'Let me look.',
        thinking_blocks: [
          { type: 'thinking', thinking: 'hmm', signature: 'sig' },
          { type: 'redacted_thinking', data: 'opaque' },
        ],
        tool_calls: [
          { id: 'toolu_1', type: 'function', function: { name: 'read', arguments: '{"path":"a"}' } },
        ],
      },
      'tool_calls',
    );
    expect(toMessagesResponse(res, 'claude-sonnet-4-5')).toEqual({
      id: 'msg_chatcmpl-9',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [
        { type: 'thinking', thinking: 'hmm', signature: 'sig' },
        { type: 'redacted_thinking', data: 'opaque' },
        { type: 'text', text: 'Let me look.' },
        { type: 'tool_use', id: 'toolu_1', name: 'read', input: { path: 'a' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: {
        input_tokens: 30,
        output_tokens: 7,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    });
  });

  it('a tool call without arguments or with malformed ones has an empty input; no text, no text block', () => {
    const res = answer(
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'f', arguments: '' } },
          { id: 'call_b', type: 'function', function: { name: 'g', arguments: '{"trunc' } },
        ],
      },
      'tool_calls',
    );
    expect(toMessagesResponse(res, 'gpt-4.1').content).toEqual([
      { type: 'tool_use', id: 'call_a', name: 'f', input: {} },
      { type: 'tool_use', id: 'call_b', name: 'g', input: {} },
    ]);
  });

  it('an OpenAI refusal is text with stop reason refusal', () => {
    const res = answer({ role: 'assistant', content: null, refusal: 'I cannot help with that.' }, 'stop');
    const out = toMessagesResponse(res, 'gpt-4.1');
    expect(out.content).toEqual([{ type: 'text', text: 'I cannot help with that.' }]);
    expect(out.stop_reason).toBe('refusal');
  });

  it.each([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['tool_calls', 'tool_use'],
    ['content_filter', 'refusal'],
    [null, 'end_turn'],
  ] as const)('finish %s → stop_reason %s', (finish, stop) => {
    expect(toStopReason(finish)).toBe(stop);
  });

  it('usage: cache reads and writes are counted apart from input_tokens, as Anthropic reports them', () => {
    expect(toMessagesUsage(THINKING_USAGE)).toEqual(THINKING_MESSAGES_USAGE);
  });

  it('message ids keep a msg_ id and prefix any other', () => {
    expect(messageId('msg_01abc')).toBe('msg_01abc');
    expect(messageId('resp_fake3')).toBe('msg_resp_fake3');
  });
});

describe("errors in Anthropic's shape", () => {
  it.each([
    [400, 'invalid_request_error'],
    [401, 'authentication_error'],
    [403, 'permission_error'],
    [404, 'not_found_error'],
    [413, 'request_too_large'],
    [422, 'invalid_request_error'],
    [429, 'rate_limit_error'],
    [500, 'api_error'],
    [502, 'api_error'],
    [503, 'overloaded_error'],
    [504, 'api_error'],
    [529, 'overloaded_error'],
  ])('%i → %s', (status, type) => {
    expect(anthropicErrorType(status)).toBe(type);
  });

  it('keeps the message of the envelope', () => {
    const envelope = {
      error: {
        message: 'Rate limit reached',
        type: 'rate_limit_error' as const,
        code: 'rate_limit_exceeded',
        param: null,
      },
    };
    expect(toAnthropicError(429, envelope)).toEqual({
      type: 'error',
      error: { type: 'rate_limit_error', message: 'Rate limit reached' },
    });
  });
});
