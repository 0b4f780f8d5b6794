import { guessMimeType, parseArguments, parseDataUrl, stopList, systemText, textOf } from '../content';
import type {
  ChatMessage,
  ChatRequest,
  ChatResponse,
  ContentPart,
  EmbeddingRequest,
  FinishReason,
  ToolCall,
  ToolChoice,
  Usage,
} from '../openai-types';
import {
  errorBodyMessage,
  httpProviderError,
  invalidResponseError,
  type ProviderError,
  unsupportedError,
} from '../provider-error';
import { toGeminiSchema } from './google.schema';
import type {
  GeminiContent,
  GeminiEmbedContentRequest,
  GeminiErrorBody,
  GeminiPart,
  GeminiRequest,
  GeminiResponse,
  GeminiUsageMetadata,
} from './google.types';

/**
 * Images: data: URLs become `inlineData`; other URLs become `fileData` (documented limitation:
 * the Gemini API only fetches Files-API / Cloud Storage / YouTube URIs, so an arbitrary https
 * URL may be refused upstream with a 400, surfaced as a non-retryable ProviderError).
 */
function toPart(part: ContentPart): GeminiPart {
  if (part.type === 'text') return { text: part.text };
  const inline = parseDataUrl(part.image_url.url);
  if (inline) return { inlineData: { mimeType: inline.mimeType, data: inline.data } };
  return { fileData: { mimeType: guessMimeType(part.image_url.url), fileUri: part.image_url.url } };
}

function userParts(content: string | ContentPart[]): GeminiPart[] {
  if (typeof content === 'string') return content ? [{ text: content }] : [];
  return content.map(toPart);
}

/**
 * A tool message as a `functionResponse` part; a failed call's text goes under `error`, the key
 * Gemini reads as the function's error.
 */
function toolPart(m: Extract<ChatMessage, { role: 'tool' }>, name: string): GeminiPart {
  const text = textOf(m.content);
  return { functionResponse: { name, response: m.is_error ? { error: text } : toolResponse(text) } };
}

/** The images of a tool message (a Messages API tool result may hold some). */
const toolImages = (m: Extract<ChatMessage, { role: 'tool' }>): GeminiPart[] =>
  typeof m.content === 'string' ? [] : m.content.filter((p) => p.type === 'image_url').map(toPart);

/** A tool message's content as the object `functionResponse.response` must be. */
function toolResponse(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // plain text result
  }
  return { content: text };
}

/**
 * OpenAI messages → Gemini contents (`model` role, functionCall / functionResponse parts, same-role
 * turns merged). Images of tool results follow all the function responses of their turn.
 */
export function toContents(messages: ChatMessage[]): GeminiContent[] {
  const out: GeminiContent[] = [];
  const toolNames = new Map<string, string>();
  let images: GeminiPart[] = [];
  const push = (role: 'user' | 'model', parts: GeminiPart[]): void => {
    if (!parts.length) return;
    const last = out[out.length - 1];
    if (last && last.role === role) last.parts.push(...parts);
    else out.push({ role, parts });
  };
  for (const m of messages) {
    if (m.role !== 'tool' && images.length) {
      push('user', images);
      images = [];
    }
    if (m.role === 'user') push('user', userParts(m.content));
    else if (m.role === 'assistant') {
      const text = textOf(m.content);
      const parts: GeminiPart[] = text ? [{ text }] : [];
      for (const call of m.tool_calls ?? []) {
        toolNames.set(call.id, call.function.name);
        parts.push({
          functionCall: { name: call.function.name, args: parseArguments(call.function.arguments) },
        });
      }
      push('model', parts);
    } else if (m.role === 'tool') {
      push('user', [toolPart(m, toolNames.get(m.tool_call_id) ?? m.tool_call_id)]);
      images.push(...toolImages(m));
    }
  }
  push('user', images);
  return out;
}

function toToolConfig(choice: ToolChoice): GeminiRequest['toolConfig'] {
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } };
}

function generationConfig(req: ChatRequest): GeminiRequest['generationConfig'] {
  const g: NonNullable<GeminiRequest['generationConfig']> = {};
  const stop = stopList(req.stop);
  if (stop) g.stopSequences = stop;
  const max = req.max_completion_tokens ?? req.max_tokens;
  if (max != null) g.maxOutputTokens = max;
  if (req.temperature != null) g.temperature = req.temperature;
  if (req.top_p != null) g.topP = req.top_p;
  if (req.top_k != null) g.topK = req.top_k;
  if (req.seed != null) g.seed = req.seed;
  if (req.presence_penalty != null) g.presencePenalty = req.presence_penalty;
  if (req.frequency_penalty != null) g.frequencyPenalty = req.frequency_penalty;
  const format = req.response_format;
  if (format && format.type !== 'text') {
    g.responseMimeType = 'application/json';
    if (format.type === 'json_schema' && format.json_schema.schema)
      g.responseSchema = toGeminiSchema(format.json_schema.schema);
  }
  return Object.keys(g).length ? g : undefined;
}

export function toRequest(req: ChatRequest): GeminiRequest {
  const out: GeminiRequest = { contents: toContents(req.messages) };
  const system = systemText(req.messages);
  if (system) out.systemInstruction = { parts: [{ text: system }] };
  if (req.tools?.length) {
    out.tools = [
      {
        functionDeclarations: req.tools.map((t) => ({
          name: t.function.name,
          ...(t.function.description ? { description: t.function.description } : {}),
          ...(t.function.parameters ? { parameters: toGeminiSchema(t.function.parameters) } : {}),
        })),
      },
    ];
  }
  if (req.tool_choice && req.tools?.length) out.toolConfig = toToolConfig(req.tool_choice);
  const g = generationConfig(req);
  if (g) out.generationConfig = g;
  return out;
}

const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY']);

export function toFinishReason(reason: string | undefined, hasToolCalls: boolean): FinishReason | null {
  if (!reason) return null;
  if (reason === 'MAX_TOKENS') return 'length';
  if (FILTERED.has(reason)) return 'content_filter';
  return hasToolCalls ? 'tool_calls' : 'stop';
}

export function toUsage(u: GeminiUsageMetadata | undefined): Usage {
  const prompt = u?.promptTokenCount ?? 0;
  const reasoning = u?.thoughtsTokenCount ?? 0;
  const completion = (u?.candidatesTokenCount ?? 0) + reasoning;
  const usage: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  };
  if (u?.cachedContentTokenCount) usage.prompt_tokens_details = { cached_tokens: u.cachedContentTokenCount };
  if (reasoning) usage.completion_tokens_details = { reasoning_tokens: reasoning };
  return usage;
}

/** Text (thought parts excluded) and function calls of one candidate's parts. */
export function splitParts(
  parts: GeminiPart[] | undefined,
  callId: (i: number) => string,
): { text: string; calls: ToolCall[] } {
  let text = '';
  const calls: ToolCall[] = [];
  for (const p of parts ?? []) {
    if ('text' in p && !p.thought) text += p.text;
    else if ('functionCall' in p) {
      const fc = p.functionCall;
      calls.push({
        id: fc.id ?? callId(calls.length),
        type: 'function',
        function: { name: fc.name, arguments: JSON.stringify(fc.args ?? {}) },
      });
    }
  }
  return { text, calls };
}

export interface ResponseMeta {
  id: string;
  created: number;
  model: string;
  /** Id of the i-th tool call (Gemini often sends none). */
  callId: (i: number) => string;
}

export function fromResponse(provider: string, res: GeminiResponse, meta: ResponseMeta): ChatResponse {
  if (!res || typeof res !== 'object') throw invalidResponseError(provider, 'empty response');
  const cand = res.candidates?.[0];
  const { text, calls } = splitParts(cand?.content?.parts, meta.callId);
  const blocked = !cand && res.promptFeedback?.blockReason;
  const finish = blocked ? 'content_filter' : toFinishReason(cand?.finishReason, calls.length > 0);
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: res.modelVersion ?? meta.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text || (calls.length ? null : ''),
          ...(calls.length ? { tool_calls: calls } : {}),
        },
        finish_reason: finish,
      },
    ],
    usage: toUsage(res.usageMetadata),
  };
}

/** Embedding inputs as texts; Gemini takes no token arrays. */
export function toEmbedRequests(provider: string, req: EmbeddingRequest): GeminiEmbedContentRequest[] {
  const inputs = typeof req.input === 'string' ? [req.input] : req.input;
  return inputs.map((input) => {
    if (typeof input !== 'string') throw unsupportedError(provider, 'token-array embedding input');
    const r: GeminiEmbedContentRequest = { content: { parts: [{ text: input }] } };
    if (req.dimensions) r.outputDimensionality = req.dimensions;
    return r;
  });
}

function retryDelayMs(bodyText: string): number | undefined {
  try {
    const body = JSON.parse(bodyText) as GeminiErrorBody;
    const delay = body.error?.details?.find((d) => typeof d.retryDelay === 'string')?.retryDelay;
    const m = delay ? /^(\d+(?:\.\d+)?)s$/.exec(delay) : null;
    return m ? Math.round(Number(m[1]) * 1000) : undefined;
  } catch {
    return undefined;
  }
}

/** Retry-After header first, then google.rpc.RetryInfo in the body. */
export function toProviderError(
  provider: string,
  status: number,
  headers: Record<string, string | string[] | undefined>,
  bodyText: string,
): ProviderError {
  const err = httpProviderError(provider, status, headers, errorBodyMessage(bodyText));
  if (err.retryAfterMs !== undefined || status !== 429) return err;
  const delay = retryDelayMs(bodyText);
  return delay === undefined
    ? err
    : httpProviderError(provider, status, headers, errorBodyMessage(bodyText), delay);
}
