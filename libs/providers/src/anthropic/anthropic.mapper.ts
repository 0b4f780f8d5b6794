import { jsonInstruction, parseArguments, parseDataUrl, stopList, systemText } from '../content';
import type {
  CacheControl,
  ChatMessage,
  ChatRequest,
  ChatResponse,
  ContentPart,
  FinishReason,
  ThinkingBlock,
  ThinkingConfig,
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
  AnthropicImageBlock,
  AnthropicMessage,
  AnthropicMessageParam,
  AnthropicRedactedThinkingBlock,
  AnthropicRequest,
  AnthropicRequestBlock,
  AnthropicResponseBlock,
  AnthropicStopReason,
  AnthropicTextBlock,
  AnthropicThinkingBlock,
  AnthropicThinkingConfig,
  AnthropicToolChoice,
  AnthropicToolResultBlock,
  AnthropicToolUseBlock,
  AnthropicUsage,
} from './anthropic.types';

/** Anthropic requires max_tokens; used when the client sets neither max_tokens nor max_completion_tokens. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

/** The cache breakpoint of a part, block or tool, when it has one. */
const cacheOf = (c: CacheControl | null | undefined): { cache_control?: CacheControl } =>
  c ? { cache_control: c } : {};

function partBlock(part: ContentPart): AnthropicTextBlock | AnthropicImageBlock {
  if (part.type === 'text') return { type: 'text', text: part.text, ...cacheOf(part.cache_control) };
  const inline = parseDataUrl(part.image_url.url);
  const source: AnthropicImageBlock['source'] = inline
    ? { type: 'base64', media_type: inline.mimeType, data: inline.data }
    : { type: 'url', url: part.image_url.url };
  return { type: 'image', source, ...cacheOf(part.cache_control) };
}

function userBlocks(content: string | ContentPart[]): AnthropicRequestBlock[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  return content.map(partBlock);
}

/**
 * Thinking blocks go back first, unchanged (Anthropic checks their signatures); one without a
 * signature cannot have come from Claude and would be refused, so it is left out.
 */
function thinkingBlocks(blocks: ThinkingBlock[] | null | undefined): AnthropicRequestBlock[] {
  const out: AnthropicRequestBlock[] = [];
  for (const b of blocks ?? []) {
    if (b.type === 'redacted_thinking') out.push({ type: 'redacted_thinking', data: b.data });
    else if (b.signature) out.push({ type: 'thinking', thinking: b.thinking, signature: b.signature });
  }
  return out;
}

function assistantBlocks(m: Extract<ChatMessage, { role: 'assistant' }>): AnthropicRequestBlock[] {
  const blocks = thinkingBlocks(m.thinking_blocks);
  if (Array.isArray(m.content)) {
    for (const part of m.content) if (part.text) blocks.push(partBlock(part));
  } else if (m.content) {
    blocks.push({ type: 'text', text: m.content });
  }
  for (const call of m.tool_calls ?? []) {
    blocks.push({
      type: 'tool_use',
      id: call.id,
      name: call.function.name,
      input: parseArguments(call.function.arguments),
      ...cacheOf(call.cache_control),
    });
  }
  return blocks;
}

/** A tool message as a `tool_result` block: a string stays a string, parts become blocks (text, images). */
function toolResult(m: Extract<ChatMessage, { role: 'tool' }>): AnthropicToolResultBlock {
  return {
    type: 'tool_result',
    tool_use_id: m.tool_call_id,
    content: typeof m.content === 'string' ? m.content : m.content.map(partBlock),
    ...(m.is_error ? { is_error: true } : {}),
    ...cacheOf(m.cache_control),
  };
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
    else if (m.role === 'tool') push('user', [toolResult(m)]);
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

/**
 * System and developer messages as `system`: a string, as before, unless a part carries a cache
 * breakpoint, which only text blocks can hold. JSON response formats have no native equivalent:
 * their instruction comes last.
 */
function toSystem(req: ChatRequest): string | AnthropicTextBlock[] | undefined {
  const instruction = jsonInstruction(req.response_format);
  const system = req.messages.filter((m) => m.role === 'system' || m.role === 'developer');
  const breakpoints = system.some((m) => Array.isArray(m.content) && m.content.some((p) => p.cache_control));
  if (!breakpoints) return [systemText(req.messages), instruction].filter(Boolean).join('\n\n') || undefined;
  const blocks: AnthropicTextBlock[] = [];
  for (const m of system) {
    if (typeof m.content === 'string') {
      if (m.content) blocks.push({ type: 'text', text: m.content });
    } else {
      for (const p of m.content)
        if (p.text) blocks.push({ type: 'text', text: p.text, ...cacheOf(p.cache_control) });
    }
  }
  if (instruction) blocks.push({ type: 'text', text: instruction });
  return blocks;
}

function thinkingConfig(t: ThinkingConfig): AnthropicThinkingConfig {
  if (t.type !== 'enabled' && t.type !== 'adaptive') return { type: 'disabled' };
  const display = t.display ? { display: t.display } : {};
  return t.type === 'enabled'
    ? { type: 'enabled', budget_tokens: t.budget_tokens, ...display }
    : { type: 'adaptive', ...display };
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
  const system = toSystem(req);
  if (system) out.system = system;
  const stop = stopList(req.stop);
  if (stop) out.stop_sequences = stop;
  if (req.temperature != null) out.temperature = Math.min(1, req.temperature);
  // Recent Claude models refuse temperature and top_p together: temperature wins.
  if (req.top_p != null && req.temperature == null) out.top_p = req.top_p;
  if (req.top_k != null) out.top_k = req.top_k;
  if (req.tools?.length) {
    out.tools = req.tools.map((t) => ({
      name: t.function.name,
      ...(t.function.description ? { description: t.function.description } : {}),
      input_schema: t.function.parameters ?? { type: 'object', properties: {} },
      ...cacheOf(t.cache_control),
    }));
  }
  if (req.tool_choice && req.tools?.length) {
    out.tool_choice = toToolChoice(req.tool_choice, req.parallel_tool_calls);
  }
  if (req.thinking) out.thinking = thinkingConfig(req.thinking);
  if (req.cache_control) out.cache_control = req.cache_control;
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
  if (u?.cache_creation_input_tokens) usage.cache_creation_input_tokens = u.cache_creation_input_tokens;
  return usage;
}

/** The response's thinking and redacted-thinking blocks, in order. */
function thinkingOf(content: AnthropicResponseBlock[]): ThinkingBlock[] {
  const out: ThinkingBlock[] = [];
  for (const b of content) {
    if (b.type === 'thinking') {
      const t = b as AnthropicThinkingBlock;
      out.push({ type: 'thinking', thinking: t.thinking, signature: t.signature });
    } else if (b.type === 'redacted_thinking') {
      out.push({ type: 'redacted_thinking', data: (b as AnthropicRedactedThinkingBlock).data });
    }
  }
  return out;
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
  const thinking = thinkingOf(res.content);
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
          ...(thinking.length ? { thinking_blocks: thinking } : {}),
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
