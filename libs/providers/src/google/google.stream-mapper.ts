import type { ChatChunk, ChunkDelta, FinishReason } from '../openai-types';
import { invalidResponseError, ProviderError } from '../provider-error';
import type { SseEvent } from '../sse';
import { choiceChunk, usageOnlyChunk } from '../stream-chunks';
import { splitParts, toFinishReason, toUsage } from './google.mapper';
import type { GeminiErrorBody, GeminiResponse, GeminiUsageMetadata } from './google.types';

/**
 * Gemini's `alt=sse` stream has no terminator event: a candidate carrying `finishReason` marks
 * the end, and the last `usageMetadata` seen is the usage.
 */
export interface GoogleStreamState {
  provider: string;
  id: string;
  model: string;
  created: number;
  started: boolean;
  toolCalls: number;
  usage: GeminiUsageMetadata | undefined;
  finish: FinishReason | null;
  callId: (i: number) => string;
}

export function createStreamState(
  provider: string,
  meta: { id: string; model: string; created: number; callId: (i: number) => string },
): GoogleStreamState {
  return { provider, ...meta, started: false, toolCalls: 0, usage: undefined, finish: null };
}

function parse(s: GoogleStreamState, data: string): GeminiResponse {
  let body: GeminiResponse & Partial<GeminiErrorBody>;
  try {
    body = JSON.parse(data) as GeminiResponse & Partial<GeminiErrorBody>;
  } catch {
    throw invalidResponseError(s.provider, 'stream event is not valid JSON');
  }
  if (body.error) {
    const status = typeof body.error.code === 'number' ? body.error.code : 502;
    throw new ProviderError({
      provider: s.provider,
      status,
      retryable: status === 429 || status >= 500,
      code: 'upstream_stream_error',
      message: `${s.provider} stream error (${body.error.status}): ${body.error.message}`,
    });
  }
  return body;
}

/** One `data:` payload → OpenAI chunks (mutates `s`). */
export function fromStreamEvent(s: GoogleStreamState, ev: SseEvent): ChatChunk[] {
  const res = parse(s, ev.data);
  if (res.usageMetadata) s.usage = res.usageMetadata;
  if (res.modelVersion) s.model = res.modelVersion;
  const out: ChatChunk[] = [];
  const delta: ChunkDelta = {};
  if (!s.started) {
    s.started = true;
    delta.role = 'assistant';
  }
  const cand = res.candidates?.[0];
  const { text, calls } = splitParts(cand?.content?.parts, (i) => s.callId(s.toolCalls + i));
  if (text || delta.role) delta.content = text;
  if (calls.length) {
    delta.tool_calls = calls.map((c, i) => ({
      index: s.toolCalls + i,
      id: c.id,
      type: 'function' as const,
      function: c.function,
    }));
    s.toolCalls += calls.length;
  }
  if (Object.keys(delta).length) out.push(choiceChunk(s, delta));
  if (s.finish) return out;
  if (cand?.finishReason) s.finish = toFinishReason(cand.finishReason, s.toolCalls > 0);
  else if (!cand && res.promptFeedback?.blockReason) s.finish = 'content_filter';
  if (s.finish) out.push(choiceChunk(s, {}, s.finish));
  return out;
}

/** True once the stream is complete (a finish reason was seen). */
export function isFinished(s: GoogleStreamState): boolean {
  return s.finish !== null;
}

/** The closing usage chunk (after the finish reason); undefined when Gemini sent no usageMetadata. */
export function usageChunk(s: GoogleStreamState): ChatChunk | undefined {
  return s.usage ? usageOnlyChunk(s, toUsage(s.usage)) : undefined;
}
