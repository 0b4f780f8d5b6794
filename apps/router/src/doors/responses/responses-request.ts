import { AtpError } from '@app/common';
import { z } from 'zod';
import type {
  ConversationItem,
  FunctionToolDef,
  InputTextPart,
  MessageItem,
  MessagePart,
  TextFormatWire,
  ToolChoiceWire,
} from './responses.types';

/**
 * POST /v1/responses, parsed and validated. Every field a client could rely on and ATP cannot
 * honour is refused with a 400 naming it (silently dropping a built-in tool would make a model
 * answer without the search the client asked for); fields that change nothing a client relies on
 * are accepted and ignored (see IGNORED).
 */
export interface ResponsesRequest {
  model: string;
  /** This turn's items (a string input is one user message). */
  input: ConversationItem[];
  instructions: string | null;
  tools: FunctionToolDef[];
  tool_choice: ToolChoiceWire | null;
  text_format: TextFormatWire;
  max_output_tokens: number | null;
  temperature: number | null;
  top_p: number | null;
  parallel_tool_calls: boolean | null;
  metadata: Record<string, string>;
  user: string | null;
  stream: boolean;
  /** OpenAI's default is true. */
  store: boolean;
  previous_response_id: string | null;
}

const MAX_METADATA_KEYS = 16;

const MetadataSchema = z
  .record(z.string().max(64), z.string().max(512))
  .refine((m) => Object.keys(m).length <= MAX_METADATA_KEYS, `at most ${MAX_METADATA_KEYS} keys`);

const RequestSchema = z.object({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.unknown())]).nullish(),
  instructions: z.string().nullish(),
  tools: z.array(z.unknown()).nullish(),
  tool_choice: z.unknown().optional(),
  text: z
    .object({ format: z.unknown().optional(), verbosity: z.enum(['low', 'medium', 'high']).nullish() })
    .nullish(),
  max_output_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  metadata: MetadataSchema.nullish(),
  user: z.string().nullish(),
  stream: z.boolean().nullish(),
  store: z.boolean().nullish(),
  previous_response_id: z.string().min(1).nullish(),
  // Accepted and ignored (IGNORED): validated only for their type.
  include: z.array(z.string()).nullish(),
  truncation: z.enum(['auto', 'disabled']).nullish(),
  service_tier: z.string().nullish(),
  prompt_cache_key: z.string().nullish(),
  prompt_cache_retention: z.string().nullish(),
  safety_identifier: z.string().nullish(),
  stream_options: z.object({}).passthrough().nullish(),
  reasoning: z.object({}).passthrough().nullish(),
  max_tool_calls: z.number().int().positive().nullish(),
});

/**
 * Fields accepted but not forwarded, and why that loses nothing a client relies on: `include`
 * asks for extra output (encrypted reasoning, hosted tool results) that this door never
 * produces; `truncation`, `service_tier` and the prompt-cache hints are vendor scheduling
 * choices; `reasoning` (effort, summary) has no place in the canonical chat request; `text.verbosity`
 * is a style hint; `max_tool_calls` bounds hosted tools, which are refused.
 */
export const IGNORED = [
  'include',
  'truncation',
  'service_tier',
  'prompt_cache_key',
  'prompt_cache_retention',
  'safety_identifier',
  'stream_options',
  'reasoning',
  'text.verbosity',
  'max_tool_calls',
] as const;

/** Fields whose meaning this door cannot honour: a 400 naming them when set. */
const REFUSED: Record<string, string> = {
  background: 'background responses are not supported: send the request without it and wait for the answer',
  conversation:
    'the Conversations API is not supported: continue with previous_response_id or send the history in input',
  prompt: 'stored prompt templates are not supported: send instructions and input instead',
  context_management: 'server-side context compaction is not supported',
  moderation: 'moderated responses are not supported',
  top_logprobs: 'log probabilities are not supported',
};

/** A refused field is set unless absent, null, false or 0 (what SDKs send for "off"). */
const isSet = (value: unknown) => value !== undefined && value !== null && value !== false && value !== 0;

const HOSTED_TOOL_TYPES = new Set([
  'web_search',
  'web_search_preview',
  'web_search_2025_08_26',
  'web_search_preview_2025_03_11',
  'file_search',
  'code_interpreter',
  'computer_use_preview',
  'computer',
  'image_generation',
  'mcp',
  'local_shell',
  'shell',
  'apply_patch',
  'custom',
  'tool_search',
]);

/** Zod issue → `param` in the envelope: `input[2].content[0].text`. */
function paramOf(prefix: string, path: readonly PropertyKey[]): string {
  let param = prefix;
  for (const p of path) param += typeof p === 'number' ? `[${p}]` : `${param ? '.' : ''}${String(p)}`;
  return param;
}

function parseAt<T>(schema: z.ZodType<T>, value: unknown, prefix: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const param = paramOf(prefix, issue.path) || 'body';
  throw AtpError.badRequest('invalid_request', `Invalid value for '${param}': ${issue.message}`, param);
}

const unsupported = (param: string, message: string) =>
  AtpError.badRequest('unsupported_parameter', message, param);

const FunctionToolSchema = z.object({
  type: z.literal('function'),
  name: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[a-zA-Z0-9_-]+$/, 'letters, digits, _ and - only'),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});

function parseTools(tools: unknown[]): FunctionToolDef[] {
  return tools.map((tool, i) => {
    const type = (tool as { type?: unknown } | null)?.type;
    if (typeof type === 'string' && type !== 'function') {
      throw unsupported(
        `tools[${i}].type`,
        HOSTED_TOOL_TYPES.has(type)
          ? `The hosted tool '${type}' is not available through this gateway: only function tools are (every model is called through its vendor's chat API, where OpenAI's hosted tools do not run)`
          : `Unknown tool type '${type}': only function tools are supported`,
      );
    }
    const t = parseAt(FunctionToolSchema, tool, `tools[${i}]`);
    return {
      type: 'function',
      name: t.name,
      description: t.description ?? null,
      parameters: t.parameters ?? null,
      strict: t.strict ?? null,
    };
  });
}

const ToolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), name: z.string().min(1) }),
]);

function parseToolChoice(value: unknown, tools: FunctionToolDef[]): ToolChoiceWire | null {
  if (value === undefined || value === null) return null;
  const type = (value as { type?: unknown }).type;
  if (typeof value === 'object' && typeof type === 'string' && type !== 'function') {
    throw unsupported(
      'tool_choice',
      `tool_choice of type '${type}' is not supported: use none, auto, required or a function`,
    );
  }
  const choice = parseAt(ToolChoiceSchema, value, 'tool_choice');
  if (typeof choice === 'object' && !tools.some((t) => t.name === choice.name)) {
    throw AtpError.badRequest(
      'invalid_request',
      `tool_choice names the function '${choice.name}', which is not in tools`,
      'tool_choice',
    );
  }
  return typeof choice === 'string' ? choice : { type: 'function', name: choice.name };
}

const TextFormatSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    name: z.string().min(1).max(64),
    schema: z.record(z.string(), z.unknown()),
    description: z.string().optional(),
    strict: z.boolean().nullish(),
  }),
]);

function parseTextFormat(value: unknown): TextFormatWire {
  if (value === undefined || value === null) return { type: 'text' };
  const f = parseAt(TextFormatSchema, value, 'text.format');
  if (f.type !== 'json_schema') return { type: f.type };
  return {
    type: 'json_schema',
    name: f.name,
    schema: f.schema,
    ...(f.description !== undefined ? { description: f.description } : {}),
    strict: f.strict ?? null,
  };
}

const Text = z.string();
const ImageDetail = z.enum(['auto', 'low', 'high']).nullish();

const InputTextSchema = z.object({ type: z.literal('input_text'), text: Text });
const PartSchema = z.discriminatedUnion('type', [
  InputTextSchema,
  z.object({ type: z.literal('output_text'), text: Text }),
  z.object({ type: z.literal('refusal'), refusal: Text }),
  z.object({
    type: z.literal('input_image'),
    image_url: z.string().min(1, 'an image URL (https or data:) is required; file_id is not supported'),
    detail: ImageDetail,
  }),
]);
type PartType = z.infer<typeof PartSchema>['type'];

/** The part types each role may carry (images only from the user, refusals only from the model). */
const PARTS_BY_ROLE: Record<MessageItem['role'], PartType[]> = {
  user: ['input_text', 'input_image', 'output_text'],
  system: ['input_text', 'output_text'],
  developer: ['input_text', 'output_text'],
  assistant: ['output_text', 'input_text', 'refusal'],
};

function parsePart(role: MessageItem['role'], part: unknown, param: string): MessagePart {
  const type = (part as { type?: unknown } | null)?.type;
  const allowed = PARTS_BY_ROLE[role];
  if (typeof type !== 'string' || !allowed.includes(type as PartType)) {
    const what = typeof type === 'string' ? `'${type}'` : 'without a type';
    throw unsupported(
      `${param}.type`,
      `A ${role} message part ${what} is not supported here: use ${allowed.join(', ')}` +
        (type === 'input_file' ? ' (files are not supported)' : ''),
    );
  }
  const p = parseAt(PartSchema, part, param);
  if (p.type === 'input_image') {
    return { type: 'input_image', image_url: p.image_url, ...(p.detail ? { detail: p.detail } : {}) };
  }
  if (p.type === 'output_text') return { type: 'output_text', text: p.text, annotations: [] };
  return p;
}

/** A function's output: text only (the canonical tool message carries text). */
function parseOutputPart(part: unknown, param: string): InputTextPart {
  const type = (part as { type?: unknown } | null)?.type;
  if (type !== 'input_text') {
    throw unsupported(
      `${param}.type`,
      `A function_call_output part of type '${String(type)}' is not supported: only input_text is`,
    );
  }
  return { type: 'input_text', text: parseAt(InputTextSchema, part, param).text };
}

const MessageSchema = z.object({
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.union([z.string(), z.array(z.unknown())]),
});

const FunctionCallSchema = z.object({
  type: z.literal('function_call'),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
  id: z.string().optional(),
});

const FunctionCallOutputSchema = z.object({
  type: z.literal('function_call_output'),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(z.unknown())]),
});

function parseItem(item: unknown, param: string): ConversationItem | null {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    throw AtpError.badRequest('invalid_request', `'${param}' must be an object`, param);
  }
  const raw = item as { type?: unknown; role?: unknown };
  const type = raw.type ?? (raw.role !== undefined ? 'message' : undefined);
  switch (type) {
    case 'message': {
      const m = parseAt(MessageSchema, item, param);
      const content =
        typeof m.content === 'string'
          ? m.content
          : m.content.map((p, j) => parsePart(m.role, p, `${param}.content[${j}]`));
      return { type: 'message', role: m.role, content };
    }
    case 'function_call': {
      const c = parseAt(FunctionCallSchema, item, param);
      return { type: 'function_call', call_id: c.call_id, name: c.name, arguments: c.arguments };
    }
    case 'function_call_output': {
      const o = parseAt(FunctionCallOutputSchema, item, param);
      const output =
        typeof o.output === 'string'
          ? o.output
          : o.output.map((p, j) => parseOutputPart(p, `${param}.output[${j}]`));
      return { type: 'function_call_output', call_id: o.call_id, output };
    }
    case 'reasoning':
      // A vendor's hidden reasoning, replayed by the client: no other vendor can read it, and
      // the model answers without it. Dropped.
      return null;
    default:
      throw unsupported(
        `${param}.type`,
        `Input items of type '${String(type)}' are not supported: use message, function_call and function_call_output` +
          (type === 'item_reference' ? ' (continue a stored conversation with previous_response_id)' : ''),
      );
  }
}

function parseInput(input: string | unknown[] | null | undefined): ConversationItem[] {
  if (input === null || input === undefined) return [];
  if (typeof input === 'string') return [{ type: 'message', role: 'user', content: input }];
  const items: ConversationItem[] = [];
  input.forEach((item, i) => {
    const parsed = parseItem(item, `input[${i}]`);
    if (parsed) items.push(parsed);
  });
  return items;
}

/** Validates a Responses request, naming the first bad or unsupported field. */
export function parseResponsesRequest(body: unknown): ResponsesRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw AtpError.badRequest('invalid_request', 'The request body must be a JSON object');
  }
  for (const [field, message] of Object.entries(REFUSED)) {
    const value = (body as Record<string, unknown>)[field];
    if (isSet(value)) throw unsupported(field, message);
  }
  const r = parseAt(RequestSchema, body, '');
  const tools = parseTools(r.tools ?? []);
  const input = parseInput(r.input);
  if (!input.length && !r.previous_response_id) {
    throw AtpError.badRequest('invalid_request', "Missing required parameter: 'input'", 'input');
  }
  return {
    model: r.model,
    input,
    instructions: r.instructions ?? null,
    tools,
    tool_choice: parseToolChoice(r.tool_choice, tools),
    text_format: parseTextFormat(r.text?.format),
    max_output_tokens: r.max_output_tokens ?? null,
    temperature: r.temperature ?? null,
    top_p: r.top_p ?? null,
    parallel_tool_calls: r.parallel_tool_calls ?? null,
    metadata: r.metadata ?? {},
    user: r.user ?? null,
    stream: r.stream ?? false,
    store: r.store ?? true,
    previous_response_id: r.previous_response_id ?? null,
  };
}
