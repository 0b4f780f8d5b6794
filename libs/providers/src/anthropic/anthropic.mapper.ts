import { jsonInstruction, parseArguments, parseDataUrl, stopList, systemText, textOf } from '../content';
import type {
  ChatMessage,
  ChatRequest,
  ChatResponse,
  ContentPart,
  FinishReason,
  ToolChoice,
  Usage,
} from '../openai-types';
import {
  errorBodyMessage,
  httpProviderError,
  invalidResponseError,
  type ProviderError,
} from '../provider-error';
import type {
  AnthropicMessage,
  AnthropicMessageParam,
  AnthropicRequest,
  AnthropicRequestBlock,
  AnthropicStopReason,
  AnthropicToolChoice,
  AnthropicToolUseBlock,
  AnthropicUsage,
} from './anthropic.types';

/** Anthropic requires max_tokens; used when the client sets neither max_tokens nor max_completion_tokens. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

function userBlocks(content: string | ContentPart[]): AnthropicRequestBlock[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  return content.map((part): AnthropicRequestBlock => {
    if (part.type === 'text') return { type: 'text', text: part.text };
    const inline = parseDataUrl(part.image_url.url);
    if (inline)
      return { type: 'image', source: { type: 'base64', media_type: inline.mimeType, data: inline.data } };
    return { type: 'image', source: { type: 'url', url: part.image_url.url } };
  });
}

function assistantBlocks(m: Extract<ChatMessage, { role: 'assistant' }>): AnthropicRequestBlock[] {
  const blocks: AnthropicRequestBlock[] = [];
  const text = textOf(m.content);
  if (text) blocks.push({ type: 'text', text });
  for (const call of m.tool_calls ?? []) {
    blocks.push({
      type: 'tool_use',
      id: call.id,
      name: call.function.name,
      input: parseArguments(call.function.arguments),
    });
  }
  return blocks;
}

/** OpenAI messages → Anthropic turns: tool results become user `tool_result` blocks; same-role turns merge. */
export function toMessages(messages: ChatMessage[]): AnthropicMessageParam[] {
  const out: AnthropicMessageParam[] = [];
  const push = (role: 'user' | 'assistant', blocks: AnthropicRequestBlock[]): void => {
    if (!blocks.length) return;
    const last = out[out.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  for (const m of messages) {
    if (m.role === 'user') push('user', userBlocks(m.content));
    else if (m.role === 'assistant') push('assistant', assistantBlocks(m));
    else if (m.role === 'tool') {
      push('user', [{ type: 'tool_result', tool_use_id: m.tool_call_id, content: textOf(m.content) }]);
    }
  }
  return out;
}

function toToolChoice(choice: ToolChoice, parallel: boolean | null | undefined): AnthropicToolChoice {
  const noParallel = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (choice === 'none') return { type: 'none' };
  if (choice === 'auto') return { type: 'auto', ...noParallel };
  if (choice === 'required') return { type: 'any', ...noParallel };
  return { type: 'tool', name: choice.function.name, ...noParallel };
}

export interface AnthropicMapOptions {
  stream: boolean;
  defaultMaxTokens?: number;
}

/**
 * OpenAI request → Messages API request. Temperature is clamped to Anthropic's 0..1 (and top_p
 * is dropped when both are set: recent Claude models refuse the pair). JSON
 * response formats have no native equivalent: an instruction is appended to `system`.
 */
export function toRequest(req: ChatRequest, opts: AnthropicMapOptions): AnthropicRequest {
  const out: AnthropicRequest = {
    model: req.model,
    max_tokens:
      req.max_completion_tokens ?? req.max_tokens ?? opts.defaultMaxTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
    messages: toMessages(req.messages),
  };
  const system = [systemText(req.messages), jsonInstruction(req.response_format)]
    .filter(Boolean)
    .join('\n\n');
  if (system) out.system = system;
  const stop = stopList(req.stop);
  if (stop) out.stop_sequences = stop;
  if (req.temperature != null) out.temperature = Math.min(1, req.temperature);
  // Recent Claude models refuse temperature and top_p together: temperature wins.
  if (req.top_p != null && req.temperature == null) out.top_p = req.top_p;
  if (req.tools?.length) {
    out.tools = req.tools.map((t) => ({
      name: t.function.name,
      ...(t.function.description ? { description: t.function.description } : {}),
      input_schema: t.function.parameters ?? { type: 'object', properties: {} },
    }));
  }
  if (req.tool_choice && req.tools?.length) {
    out.tool_choice = toToolChoice(req.tool_choice, req.parallel_tool_calls);
  }
  if (req.user) out.metadata = { user_id: req.user };
  if (opts.stream) out.stream = true;
  return out;
}

export function toFinishReason(reason: AnthropicStopReason | null | undefined): FinishReason | null {
  switch (reason) {
    case 'max_tokens':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    case 'end_turn':
    case 'stop_sequence':
    case 'pause_turn':
      return 'stop';
    default:
      return null;
  }
}

/** Cache reads and writes are prompt tokens too (OpenAI counts cached tokens inside prompt_tokens). */
export function toUsage(u: Partial<AnthropicUsage> | undefined): Usage {
  const cached = u?.cache_read_input_tokens ?? 0;
  const prompt = (u?.input_tokens ?? 0) + (u?.cache_creation_input_tokens ?? 0) + cached;
  const completion = u?.output_tokens ?? 0;
  const usage: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  };
  if (cached) usage.prompt_tokens_details = { cached_tokens: cached };
  return usage;
}

export function fromResponse(provider: string, res: AnthropicMessage, created: number): ChatResponse {
  if (!res || !Array.isArray(res.content)) throw invalidResponseError(provider, 'message without content');
  const text = res.content.map((b) => (b.type === 'text' ? (b as { text: string }).text : '')).join('');
  const toolUses = res.content.filter((b): b is AnthropicToolUseBlock => b.type === 'tool_use');
  const toolCalls = toolUses.map((b) => ({
    id: b.id,
    type: 'function' as const,
    function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) },
  }));
  return {
    id: res.id,
    object: 'chat.completion',
    created,
    model: res.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text || (toolCalls.length ? null : ''),
          ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: toFinishReason(res.stop_reason),
      },
    ],
    usage: toUsage(res.usage),
  };
}

export function toProviderError(
  provider: string,
  status: number,
  headers: Record<string, string | string[] | undefined>,
  bodyText: string,
): ProviderError {
  return httpProviderError(provider, status, headers, errorBodyMessage(bodyText));
}
