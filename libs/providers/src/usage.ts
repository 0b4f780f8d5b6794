import type { ChatChunk, ChatMessage, ChatRequest, EmbeddingRequest, Usage } from './openai-types';
import { ProviderError } from './provider-error';
import { usageOnlyChunk } from './stream-chunks';

/** ≈ 4 characters per token: the estimate used whenever a vendor reports no usage. */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}

function messageText(m: ChatMessage): string {
  const content = m.content;
  let text = '';
  if (typeof content === 'string') text = content;
  else if (Array.isArray(content)) {
    for (const part of content) text += part.type === 'text' ? part.text : ' [image] ';
  }
  if (m.role === 'assistant' && m.tool_calls) {
    for (const call of m.tool_calls) text += call.function.name + call.function.arguments;
  }
  if (m.role === 'assistant' && m.thinking_blocks) {
    for (const t of m.thinking_blocks) text += t.type === 'thinking' ? t.thinking : '';
  }
  return text;
}

/** Prompt tokens of a chat request: message text, tool definitions, ~4 tokens framing per message. */
export function estimatePromptTokens(req: ChatRequest): number {
  let tokens = 0;
  for (const m of req.messages) tokens += 4 + estimateTokens(messageText(m));
  if (req.tools?.length) tokens += estimateTokens(JSON.stringify(req.tools));
  return tokens;
}

export function estimateEmbeddingTokens(req: EmbeddingRequest): number {
  const input = req.input;
  if (typeof input === 'string') return estimateTokens(input);
  let tokens = 0;
  for (const item of input) {
    if (typeof item === 'string') tokens += estimateTokens(item);
    else if (typeof item === 'number') tokens += 1;
    else tokens += item.length;
  }
  return tokens;
}

export function makeUsage(prompt: number, completion: number, estimated = false): Usage {
  const usage: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  };
  if (estimated) usage.estimated = true;
  return usage;
}

/** Usage estimated from the request and the generated text (content + tool call arguments). */
export function estimateUsage(req: ChatRequest, completionText: string): Usage {
  return makeUsage(estimatePromptTokens(req), estimateTokens(completionText), true);
}

function chunkText(chunk: ChatChunk): string {
  let text = '';
  for (const choice of chunk.choices) {
    text += choice.delta.content ?? '';
    for (const call of choice.delta.tool_calls ?? [])
      text += (call.function?.name ?? '') + (call.function?.arguments ?? '');
  }
  return text;
}

/**
 * Wraps an adapter's chunk stream: guarantees a final usage chunk (estimated when the vendor sent
 * none) and, when the stream fails, attaches the usage of what was already delivered to the
 * ProviderError (`partialUsage`) so the router can still bill it.
 */
export async function* withStreamUsage(
  req: ChatRequest,
  source: AsyncIterable<ChatChunk>,
): AsyncGenerator<ChatChunk> {
  let text = '';
  let usage: Usage | undefined;
  let last: ChatChunk | undefined;
  try {
    for await (const chunk of source) {
      text += chunkText(chunk);
      if (chunk.usage) usage = chunk.usage;
      last = chunk;
      yield chunk;
    }
  } catch (err) {
    if (err instanceof ProviderError && !err.partialUsage)
      err.partialUsage = usage ?? estimateUsage(req, text);
    throw err;
  }
  if (!usage && last) {
    yield usageOnlyChunk(last, estimateUsage(req, text));
  }
}
