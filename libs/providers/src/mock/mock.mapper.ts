import { createHash } from 'node:crypto';
import { textOf } from '../content';
import type { ChatRequest, ChatResponse, EmbeddingRequest, FinishReason, ToolCall } from '../openai-types';
import { estimateTokens, estimatePromptTokens, makeUsage } from '../usage';

/** Pure, deterministic content of the mock provider. */

function lastUserText(req: ChatRequest): string {
  for (let i = req.messages.length - 1; i >= 0; i--) {
    const m = req.messages[i];
    if (m.role === 'user') {
      return typeof m.content === 'string'
        ? m.content
        : m.content.map((p) => (p.type === 'text' ? p.text : '[image]')).join(' ');
    }
    if (m.role === 'tool') return textOf(m.content);
  }
  return '';
}

/** The reply text: a short summary of the last user turn, the same for the same request. */
export function mockReplyText(req: ChatRequest): string {
  const words = lastUserText(req).split(/\s+/).filter(Boolean);
  const summary = words.slice(0, 12).join(' ') + (words.length > 12 ? ' …' : '');
  const text = `This is a mock reply to a ${words.length}-word message (${req.messages.length} messages in the conversation): "${summary}".`;
  const format = req.response_format?.type;
  return format === 'json_object' || format === 'json_schema'
    ? JSON.stringify({ mock: true, reply: text })
    : text;
}

/** A forced tool (tool_choice `required` or a named function) yields one call with `{}` arguments. */
export function mockToolCall(req: ChatRequest, id: string): ToolCall | undefined {
  const choice = req.tool_choice;
  if (!req.tools?.length || !choice || choice === 'none' || choice === 'auto') return undefined;
  const name = choice === 'required' ? req.tools[0].function.name : choice.function.name;
  return { id, type: 'function', function: { name, arguments: '{}' } };
}

/** Splits text into `n` roughly equal pieces (at least one; never splits a surrogate pair). */
export function splitText(text: string, n: number): string[] {
  const chars = Array.from(text);
  const count = Math.max(1, Math.min(n, chars.length || 1));
  const size = Math.ceil(chars.length / count);
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(chars.slice(i * size, (i + 1) * size).join(''));
  return out.filter((p, i) => p.length > 0 || i === 0);
}

export function mockResponse(
  req: ChatRequest,
  meta: { id: string; created: number; callId: string },
): ChatResponse {
  const call = mockToolCall(req, meta.callId);
  const text = call ? '' : mockReplyText(req);
  const completion = call
    ? estimateTokens(call.function.name + call.function.arguments)
    : estimateTokens(text);
  const finish: FinishReason = call ? 'tool_calls' : 'stop';
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: req.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: call ? null : text, ...(call ? { tool_calls: [call] } : {}) },
        finish_reason: finish,
      },
    ],
    usage: makeUsage(estimatePromptTokens(req), completion),
  };
}

/** A unit-length vector derived from SHA-256 of the text (same text → same vector). */
export function mockEmbedding(text: string, dims: number): number[] {
  const values: number[] = [];
  for (let block = 0; values.length < dims; block++) {
    const digest = createHash('sha256').update(`${block}:${text}`).digest();
    for (let i = 0; i + 1 < digest.length && values.length < dims; i += 2)
      values.push(digest.readUInt16BE(i) / 32767.5 - 1);
  }
  const norm = Math.sqrt(values.reduce((s, v) => s + v * v, 0)) || 1;
  return values.map((v) => v / norm);
}

export function mockEmbeddingInputs(req: EmbeddingRequest): string[] {
  const input = req.input;
  if (typeof input === 'string') return [input];
  return (input as unknown[]).map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
}
