import type {
  ChatChunk,
  ChatMessage,
  ChatRequest,
  ContentPart,
  ChatResponse,
  EmbeddingRequest,
  EmbeddingResponse,
} from '../openai-types';
import {
  errorBodyMessage,
  httpProviderError,
  invalidResponseError,
  ProviderError,
  type ProviderErrorCode,
} from '../provider-error';
import { estimateEmbeddingTokens, estimateUsage } from '../usage';
import type {
  OpenAiChatChunk,
  OpenAiChatCompletion,
  OpenAiChatRequest,
  OpenAiErrorBody,
} from './openai.types';

type Part = ContentPart;
type ToolMessage = Extract<ChatMessage, { role: 'tool' }>;

/** A part without the cache breakpoint (an Anthropic extension OpenAI refuses). */
function plainPart(part: Part): Part {
  if (!part.cache_control) return part;
  const { cache_control: _c, ...rest } = part;
  return rest;
}

const plainContent = <T extends string | Part[] | null | undefined>(content: T): T =>
  (Array.isArray(content) ? content.map(plainPart) : content) as T;

/**
 * A tool message as OpenAI takes it: text only, without is_error and cache_control. Its images
 * (an Anthropic tool result may hold some) are returned to be sent in a user message after the
 * tool messages, since OpenAI accepts images only from the user.
 */
function plainToolMessage(m: ToolMessage): { message: ChatMessage; images: Part[] } {
  const { is_error: _e, cache_control: _c, ...rest } = m;
  if (typeof m.content === 'string') return { message: rest, images: [] };
  const text = m.content.filter((p) => p.type === 'text').map(plainPart);
  const images = m.content.filter((p) => p.type === 'image_url').map(plainPart);
  return { message: { ...rest, content: text.length ? text : '' }, images };
}

function plainMessage(m: ChatMessage): ChatMessage {
  if (m.role === 'assistant') {
    const { thinking_blocks: _t, ...rest } = m;
    const out = { ...rest, content: plainContent(m.content) };
    if (m.tool_calls) {
      out.tool_calls = m.tool_calls.map((c) => {
        const { cache_control: _c, ...call } = c;
        return call;
      });
    }
    return out;
  }
  if (m.role === 'user') return { ...m, content: plainContent(m.content) };
  if (m.role === 'system' || m.role === 'developer') return { ...m, content: plainContent(m.content) };
  return m;
}

/**
 * Messages without the gateway's extensions (thinking blocks, cache breakpoints, tool-result
 * images and is_error), which OpenAI and OpenAI-compatible servers refuse or do not know.
 */
export function toMessages(messages: ChatMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  let images: Part[] = [];
  for (const m of messages) {
    if (m.role !== 'tool' && images.length) {
      out.push({ role: 'user', content: images });
      images = [];
    }
    if (m.role !== 'tool') {
      out.push(plainMessage(m));
      continue;
    }
    const tool = plainToolMessage(m);
    out.push(tool.message);
    images.push(...tool.images);
  }
  if (images.length) out.push({ role: 'user', content: images });
  return out;
}

/**
 * The request is already in OpenAI's format: the streaming flags are set, and the gateway's
 * extensions (top_k, thinking, cache_control; see openai-types.ts) are left out. Streams always
 * ask for usage (`stream_options.include_usage`), whatever the client asked.
 */
export function toRequest(req: ChatRequest, stream: boolean, askStreamUsage = true): OpenAiChatRequest {
  const { stream: _s, stream_options: _o, top_k: _k, thinking: _t, cache_control: _c, ...fields } = req;
  const rest = { ...fields, messages: toMessages(req.messages) };
  if (req.tools) {
    rest.tools = req.tools.map((t) => {
      const { cache_control: _cc, ...tool } = t;
      return tool;
    });
  }
  if (!stream) return rest;
  // Object.assign: `{ ...rest, stream: true }` adds keys after a spread, ~1.4 µs a stream on
  // Node 20 (bench/README.md, "Object spreads").
  return Object.assign(
    {},
    rest,
    askStreamUsage ? { stream: true, stream_options: { include_usage: true } } : { stream: true },
  ) as OpenAiChatRequest;
}

export function toEmbeddingRequest(req: EmbeddingRequest): EmbeddingRequest {
  // Always floats upstream: the router converts to base64 when the client asked for it.
  return { ...req, encoding_format: 'float' };
}

function completionText(res: OpenAiChatCompletion): string {
  const msg = res.choices[0]?.message;
  let text = msg?.content ?? '';
  for (const c of msg?.tool_calls ?? []) text += c.function.name + c.function.arguments;
  return text;
}

/** Validates the shape and fills in usage (estimated) when an openai-compatible server omits it. */
export function fromResponse(provider: string, req: ChatRequest, res: OpenAiChatCompletion): ChatResponse {
  if (!res || !Array.isArray(res.choices)) throw invalidResponseError(provider, 'no choices');
  return { ...res, usage: res.usage ?? estimateUsage(req, completionText(res)) };
}

export function fromEmbeddingResponse(
  provider: string,
  req: EmbeddingRequest,
  res: EmbeddingResponse,
): EmbeddingResponse {
  if (!res || !Array.isArray(res.data)) throw invalidResponseError(provider, 'no embedding data');
  if (res.usage) return res;
  const tokens = estimateEmbeddingTokens(req);
  return { ...res, usage: { prompt_tokens: tokens, total_tokens: tokens, estimated: true } };
}

export type StreamStep = { kind: 'chunk'; chunk: ChatChunk } | { kind: 'done' } | { kind: 'skip' };

/** One SSE `data:` payload: a chunk, the `[DONE]` terminator, or an in-stream `{"error":…}`. */
export function fromStreamEvent(provider: string, data: string): StreamStep {
  if (data.trim() === '[DONE]') return { kind: 'done' };
  let parsed: OpenAiChatChunk | OpenAiErrorBody;
  try {
    parsed = JSON.parse(data) as OpenAiChatChunk | OpenAiErrorBody;
  } catch {
    throw invalidResponseError(provider, 'stream event is not valid JSON');
  }
  if ('error' in parsed && parsed.error) {
    throw streamError(provider, parsed.error.message ?? 'error event', parsed.error.type);
  }
  const chunk = parsed as OpenAiChatChunk;
  if (!Array.isArray(chunk.choices)) throw invalidResponseError(provider, 'chunk without choices');
  return { kind: 'chunk', chunk };
}

function streamError(provider: string, message: string, type: string | undefined): ProviderError {
  const code: ProviderErrorCode = 'upstream_stream_error';
  return new ProviderError({
    provider,
    status: 502,
    retryable: type !== 'invalid_request_error',
    code,
    message: `${provider} stream error: ${message}`,
  });
}

export function toProviderError(
  provider: string,
  status: number,
  headers: Record<string, string | string[] | undefined>,
  bodyText: string,
): ProviderError {
  return httpProviderError(provider, status, headers, errorBodyMessage(bodyText));
}
