import { createHash } from 'node:crypto';
import { textOf } from '../content';
import type {
  AssistantResponseMessage,
  ChatRequest,
  ChatResponse,
  EmbeddingRequest,
  FinishReason,
  FunctionTool,
  ToolCall,
} from '../openai-types';
import { estimateTokens, estimatePromptTokens, makeUsage } from '../usage';
import { sampleFromSchema } from './schema-sample';

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

/** Whitespace as `\s` matches it. */
function isSpace(c: number): boolean {
  return (
    (c >= 9 && c <= 13) ||
    c === 32 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/**
 * How many words (runs of non-whitespace) a text has, and its first `keep` words, in one pass
 * that allocates only those: the embedded mock runs on the router's event loop, and splitting a
 * 1 MB prompt into 150k strings held the loop for hundreds of milliseconds.
 */
export function wordsIn(text: string, keep: number): { count: number; first: string[] } {
  const first: string[] = [];
  let count = 0;
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const space = i === text.length || isSpace(text.charCodeAt(i));
    if (!space && start < 0) start = i;
    else if (space && start >= 0) {
      if (count < keep) first.push(text.slice(start, i));
      count++;
      start = -1;
    }
  }
  return { count, first };
}

/** The reply text: a short summary of the last user turn, the same for the same request. */
export function mockReplyText(req: ChatRequest): string {
  const { count, first } = wordsIn(lastUserText(req), 12);
  const summary = first.join(' ') + (count > 12 ? ' …' : '');
  const text = `This is a mock reply to a ${count}-word message (${req.messages.length} messages in the conversation): "${summary}".`;
  const format = req.response_format;
  if (format?.type === 'json_schema' && format.json_schema.schema)
    return JSON.stringify(sampleFromSchema(format.json_schema.schema));
  return format?.type === 'json_object' || format?.type === 'json_schema'
    ? JSON.stringify({ mock: true, reply: text })
    : text;
}

/** Lower-case words of a tool name (`get_weather`, `getWeather` → get, weather) or description. */
function wordsOf(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/** Words too common to say which tool a message is about. */
const STOP_WORDS = new Set([
  'get',
  'set',
  'the',
  'and',
  'for',
  'with',
  'from',
  'this',
  'that',
  'tool',
  'function',
]);

/**
 * Which tool `tool_choice: "auto"` calls (documented in libs/providers/README.md): none when the
 * last message is not the user's (a tool result was given: answer in text); else the first tool
 * whose name, or a word of its name or description (3+ letters, not a stop word), appears in the
 * last user message; else the first tool.
 */
export function autoToolChoice(req: ChatRequest): FunctionTool | undefined {
  const tools = req.tools ?? [];
  const last = req.messages[req.messages.length - 1];
  if (!tools.length || last?.role !== 'user') return undefined;
  const said = new Set(wordsOf(lastUserText(req)));
  const text = lastUserText(req).toLowerCase();
  const mentioned = (tool: FunctionTool): boolean =>
    text.includes(tool.function.name.toLowerCase()) ||
    [...wordsOf(tool.function.name), ...wordsOf(tool.function.description ?? '')].some(
      (w) => w.length >= 3 && !STOP_WORDS.has(w) && said.has(w),
    );
  return tools.find(mentioned) ?? tools[0];
}

/**
 * The tool call the mock makes, if any: `required` → the auto rule's pick (always a tool), a named
 * function → that one, `auto` (or unset with tools) → {@link autoToolChoice}, `none` → none.
 * Arguments are a sample of the tool's `parameters` schema (valid against it).
 */
export function mockToolCall(req: ChatRequest, id: string): ToolCall | undefined {
  const choice = req.tool_choice ?? 'auto';
  if (!req.tools?.length || choice === 'none') return undefined;
  let tool: FunctionTool | undefined;
  if (choice === 'auto') tool = autoToolChoice(req);
  else if (choice === 'required') tool = autoToolChoice(req) ?? req.tools[0];
  else tool = req.tools.find((t) => t.function.name === choice.function.name);
  if (!tool && typeof choice === 'object') {
    // A named function that is not among the tools: call it anyway, as asked.
    return { id, type: 'function', function: { name: choice.function.name, arguments: '{}' } };
  }
  if (!tool) return undefined;
  const parameters = tool.function.parameters ?? { type: 'object', properties: {} };
  return {
    id,
    type: 'function',
    function: { name: tool.function.name, arguments: JSON.stringify(sampleFromSchema(parameters)) },
  };
}

/** `max_completion_tokens` (or the older `max_tokens`): the mock's completion is cut to it. */
function maxTokensOf(req: ChatRequest): number | undefined {
  return req.max_completion_tokens ?? req.max_tokens ?? undefined;
}

/** Text cut to `maxTokens` at the estimator's ≈4 characters per token (never inside a surrogate pair). */
export function cutToTokens(text: string, maxTokens: number | undefined): { text: string; cut: boolean } {
  if (maxTokens === undefined || estimateTokens(text) <= maxTokens) return { text, cut: false };
  return {
    text: Array.from(text)
      .slice(0, maxTokens * 4)
      .join(''),
    cut: true,
  };
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

/**
 * The whole reply. With `max_tokens` below the reply's size the text is cut and `finish_reason`
 * is `length` (tool calls are never cut). `n` choices are the same reply; usage counts each.
 */
export function mockResponse(
  req: ChatRequest,
  meta: { id: string; created: number; callId: string },
): ChatResponse {
  const call = mockToolCall(req, meta.callId);
  const { text, cut } = call ? { text: '', cut: false } : cutToTokens(mockReplyText(req), maxTokensOf(req));
  const perChoice = call
    ? estimateTokens(call.function.name + call.function.arguments)
    : estimateTokens(text);
  const finish: FinishReason = call ? 'tool_calls' : cut ? 'length' : 'stop';
  const n = Math.max(1, req.n ?? 1);
  const message: AssistantResponseMessage = call
    ? { role: 'assistant', content: null, tool_calls: [call] }
    : { role: 'assistant', content: text };
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: req.model,
    choices: Array.from({ length: n }, (_, index) => ({
      index,
      message: { ...message },
      finish_reason: finish,
    })),
    usage: makeUsage(estimatePromptTokens(req), perChoice * n),
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
