import type {
  ChatChunk,
  ChatRequest,
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

/**
 * The request is already in OpenAI's format: only the streaming flags are set. Streams always
 * ask for usage (`stream_options.include_usage`), whatever the client asked.
 */
export function toRequest(req: ChatRequest, stream: boolean, askStreamUsage = true): OpenAiChatRequest {
  const { stream: _s, stream_options: _o, ...rest } = req;
  if (!stream) return { ...rest };
  return askStreamUsage
    ? { ...rest, stream: true, stream_options: { include_usage: true } }
    : { ...rest, stream: true };
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
