import {
  type ChatResponse,
  type FinishReason,
  parseArguments,
  type ThinkingBlock,
  type ToolCall,
  type Usage,
} from '@app/providers';

/** The Anthropic Messages API answer (`type: "message"`) as this door renders it. */

export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn' | 'refusal';

export interface MessagesUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export type ResponseBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted_thinking'; data: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

export interface MessagesResponse {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: ResponseBlock[];
  stop_reason: StopReason;
  stop_sequence: string | null;
  usage: MessagesUsage;
}

/** Anthropic message ids start with `msg_`; another vendor's id is kept behind that prefix. */
export function messageId(id: string): string {
  return id.startsWith('msg_') ? id : `msg_${id}`;
}

/**
 * The canonical finish reason as Anthropic's stop reason. A stop sequence and the natural end are
 * both `stop` in the canonical form, so both are reported as `end_turn`.
 */
export function toStopReason(finish: FinishReason | null | undefined): StopReason {
  switch (finish) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

/**
 * Canonical usage as Anthropic's: `input_tokens` are the prompt tokens that were neither read from
 * nor written to the prompt cache (Anthropic counts the three apart; OpenAI counts cached tokens
 * inside `prompt_tokens`).
 */
export function toMessagesUsage(u: Usage): MessagesUsage {
  const read = u.prompt_tokens_details?.cached_tokens ?? 0;
  const written = u.cache_creation_input_tokens ?? 0;
  return {
    input_tokens: Math.max(0, u.prompt_tokens - read - written),
    output_tokens: u.completion_tokens,
    cache_creation_input_tokens: written,
    cache_read_input_tokens: read,
  };
}

export function thinkingBlock(b: ThinkingBlock): ResponseBlock {
  return b.type === 'thinking'
    ? { type: 'thinking', thinking: b.thinking, signature: b.signature ?? '' }
    : { type: 'redacted_thinking', data: b.data };
}

const toolUse = (c: ToolCall): ResponseBlock => ({
  type: 'tool_use',
  id: c.id,
  name: c.function.name,
  // Anthropic's input is an object: a vendor's malformed arguments become {}.
  input: parseArguments(c.function.arguments),
});

/**
 * A canonical answer as a Messages API answer: thinking blocks, then the text (an OpenAI refusal
 * is text too, with stop reason `refusal`), then the tool calls as `tool_use` blocks.
 */
export function toMessagesResponse(res: ChatResponse, model: string): MessagesResponse {
  const choice = res.choices[0];
  const message = choice?.message;
  const content: ResponseBlock[] = (message?.thinking_blocks ?? []).map(thinkingBlock);
  const text = message?.content || message?.refusal;
  if (text) content.push({ type: 'text', text });
  for (const call of message?.tool_calls ?? []) content.push(toolUse(call));
  return {
    id: messageId(res.id),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: message?.refusal && !message.content ? 'refusal' : toStopReason(choice?.finish_reason),
    stop_sequence: null,
    usage: toMessagesUsage(res.usage),
  };
}
