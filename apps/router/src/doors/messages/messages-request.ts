import { AtpError } from '@app/common';
import type {
  ChatMessage,
  ChatRequest,
  ContentPart,
  TextContentPart,
  ThinkingBlock,
  ToolCall,
} from '@app/providers';
import type { z } from 'zod';
import {
  type AssistantBlock,
  type CountTokensRequest,
  CountTokensRequestSchema,
  type ImageBlock,
  type MessageParam,
  type MessagesRequest,
  MessagesRequestSchema,
  type TextBlock,
  type UserBlock,
} from './messages.schema';

type Issue = z.core.$ZodIssue;

/**
 * The issue to report: inside a union (a string or a list of blocks), the branch that got
 * furthest into the value says what is actually wrong (`messages.0.content.1.type`).
 */
function deepestIssue(issue: Issue): Issue {
  if (issue.code !== 'invalid_union' || !issue.errors.length) return issue;
  let best: Issue = issue;
  for (const branch of issue.errors) {
    for (const inner of branch) {
      const candidate = deepestIssue({ ...inner, path: [...issue.path, ...inner.path] });
      if (candidate.path.length > best.path.length) best = candidate;
    }
  }
  return best;
}

function valueAt(body: unknown, path: PropertyKey[]): unknown {
  let v = body;
  for (const key of path)
    v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

/** Validates a body, naming the first bad field as Anthropic does (`max_tokens: Field required`). */
function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw AtpError.badRequest('invalid_request', 'The request body must be a JSON object');
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = deepestIssue(parsed.error.issues[0]);
  const path = issue.path.map(String).join('.');
  const missing = issue.code === 'invalid_type' && valueAt(body, issue.path) === undefined;
  throw AtpError.badRequest(
    'invalid_request',
    `${path || 'body'}: ${missing ? 'Field required' : issue.message}`,
    path || undefined,
  );
}

export const parseMessagesRequest = (body: unknown): MessagesRequest =>
  parseBody(MessagesRequestSchema, body);
export const parseCountTokensRequest = (body: unknown): CountTokensRequest =>
  parseBody(CountTokensRequestSchema, body);

const cacheOf = (block: { cache_control?: ContentPart['cache_control'] }) =>
  block.cache_control ? { cache_control: block.cache_control } : {};

function textPart(block: TextBlock): TextContentPart {
  return { type: 'text', text: block.text, ...cacheOf(block) };
}

/** Anthropic image sources as the canonical image part: base64 data becomes a data: URL. */
function imagePart(block: ImageBlock): ContentPart {
  const s = block.source;
  const url = s.type === 'base64' ? `data:${s.media_type};base64,${s.data}` : s.url;
  return { type: 'image_url', image_url: { url }, ...cacheOf(block) };
}

/** Text as a plain string when that loses nothing (one block, no breakpoint), else as parts. */
function textContent(blocks: TextBlock[]): string | TextContentPart[] {
  if (blocks.length === 1 && !blocks[0].cache_control) return blocks[0].text;
  return blocks.map(textPart);
}

/**
 * A user turn: each `tool_result` block becomes a tool message, in order; the text and image
 * blocks between them become user messages. Tool results thus keep their text where the
 * pipeline's PII policy looks for it (every message's content).
 */
function userMessages(content: string | UserBlock[]): ChatMessage[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  const out: ChatMessage[] = [];
  let parts: ContentPart[] = [];
  const flush = () => {
    if (parts.length) out.push({ role: 'user', content: parts });
    parts = [];
  };
  for (const block of content) {
    if (block.type === 'text') parts.push(textPart(block));
    else if (block.type === 'image') parts.push(imagePart(block));
    else {
      flush();
      const c = block.content ?? '';
      out.push({
        role: 'tool',
        tool_call_id: block.tool_use_id,
        content: typeof c === 'string' ? c : c.map((b) => (b.type === 'text' ? textPart(b) : imagePart(b))),
        ...(block.is_error ? { is_error: true } : {}),
        ...cacheOf(block),
      });
    }
  }
  flush();
  return out;
}

/** An assistant turn: thinking blocks (signatures kept), text, then tool calls with their ids. */
function assistantMessage(content: string | AssistantBlock[]): ChatMessage {
  if (typeof content === 'string') return { role: 'assistant', content };
  const texts: TextBlock[] = [];
  const thinking: ThinkingBlock[] = [];
  const calls: ToolCall[] = [];
  for (const block of content) {
    if (block.type === 'text') texts.push(block);
    else if (block.type === 'thinking' || block.type === 'redacted_thinking') thinking.push(block);
    else {
      calls.push({
        id: block.id,
        type: 'function',
        function: { name: block.name, arguments: JSON.stringify(block.input) },
        ...cacheOf(block),
      });
    }
  }
  return {
    role: 'assistant',
    content: texts.length ? textContent(texts) : null,
    ...(calls.length ? { tool_calls: calls } : {}),
    ...(thinking.length ? { thinking_blocks: thinking } : {}),
  };
}

function toMessages(system: MessagesRequest['system'], messages: MessageParam[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  if (typeof system === 'string' ? system : system?.length) {
    out.push({ role: 'system', content: typeof system === 'string' ? system : textContent(system!) });
  }
  for (const m of messages) {
    if (m.role === 'user') out.push(...userMessages(m.content));
    else out.push(assistantMessage(m.content));
  }
  return out;
}

function toolChoice(choice: NonNullable<MessagesRequest['tool_choice']>): Partial<ChatRequest> {
  const parallel = 'disable_parallel_tool_use' in choice && choice.disable_parallel_tool_use;
  const noParallel = parallel ? { parallel_tool_calls: false } : {};
  if (choice.type === 'none') return { tool_choice: 'none' };
  if (choice.type === 'auto') return { tool_choice: 'auto', ...noParallel };
  if (choice.type === 'any') return { tool_choice: 'required', ...noParallel };
  return { tool_choice: { type: 'function', function: { name: choice.name } }, ...noParallel };
}

/** What shapes the prompt, in the canonical form: system, messages, tools, tool choice, thinking. */
function promptOf(req: CountTokensRequest): ChatRequest {
  const out: ChatRequest = { model: req.model, messages: toMessages(req.system, req.messages) };
  if (req.tools?.length) {
    out.tools = req.tools.map((t) => ({
      type: 'function',
      function: {
        name: t.name,
        ...(t.description !== undefined ? { description: t.description } : {}),
        parameters: t.input_schema,
      },
      ...cacheOf(t),
    }));
  }
  if (req.tool_choice) Object.assign(out, toolChoice(req.tool_choice));
  if (req.thinking) out.thinking = req.thinking;
  if (req.cache_control) out.cache_control = req.cache_control;
  return out;
}

/**
 * A Messages API request as the canonical (OpenAI chat) request the pipeline runs. `max_tokens`
 * becomes `max_completion_tokens`, the name every current OpenAI model takes (the reasoning
 * models refuse `max_tokens`); `metadata.user_id` becomes `user`.
 */
export function toCanonical(req: MessagesRequest): ChatRequest {
  const out = promptOf(req);
  out.max_completion_tokens = req.max_tokens;
  if (req.stop_sequences?.length) out.stop = req.stop_sequences;
  if (req.temperature !== undefined) out.temperature = req.temperature;
  if (req.top_p !== undefined) out.top_p = req.top_p;
  if (req.top_k !== undefined) out.top_k = req.top_k;
  if (req.metadata?.user_id) out.user = req.metadata.user_id;
  if (req.stream) out.stream = true;
  return out;
}

/** A count_tokens request as the canonical request whose prompt is counted. */
export const countTokensPrompt = (req: CountTokensRequest): ChatRequest => promptOf(req);
