import { z } from 'zod';

/**
 * The gateway's internal request/response types ARE OpenAI's chat completions and embeddings
 * schemas. Requests are zod schemas (the router validates incoming bodies with them; unknown
 * fields are stripped); responses are plain interfaces the adapters build.
 */

/**
 * Gateway extensions (not OpenAI's): fields the Anthropic Messages door carries so that a Claude
 * model receives everything its client sent. Only the Anthropic mapper sends them on; the other
 * mappers drop what their vendor cannot take. They are all optional.
 * - `cache_control`: an Anthropic prompt-cache breakpoint on a text or image part, a tool call, a
 *   tool result, a tool, or the whole request.
 * - `thinking_blocks` on assistant messages: extended-thinking blocks (with their signatures)
 *   returned by an earlier turn, which Anthropic wants back unchanged in tool-use loops.
 * - `thinking` and `top_k` on the request; `is_error` and image parts on tool results.
 */
export const CacheControlSchema = z.object({
  type: z.literal('ephemeral'),
  ttl: z.enum(['5m', '1h']).optional(),
});
const cache_control = CacheControlSchema.nullish();

const TextPartSchema = z.object({ type: z.literal('text'), text: z.string(), cache_control });
const ImagePartSchema = z.object({
  type: z.literal('image_url'),
  image_url: z.object({ url: z.string().min(1), detail: z.enum(['auto', 'low', 'high']).optional() }),
  cache_control,
});
const ContentPartSchema = z.discriminatedUnion('type', [TextPartSchema, ImagePartSchema]);

export const ToolCallSchema = z.object({
  id: z.string(),
  type: z.literal('function'),
  function: z.object({ name: z.string(), arguments: z.string() }),
  cache_control,
});

export const ThinkingBlockSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('thinking'), thinking: z.string(), signature: z.string().optional() }),
  z.object({ type: z.literal('redacted_thinking'), data: z.string() }),
]);

/** Anthropic's extended-thinking configuration (a gateway extension; only Claude models get it). */
export const ThinkingConfigSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('enabled'),
    budget_tokens: z.number().int().positive(),
    display: z.enum(['summarized', 'omitted']).nullish(),
  }),
  z.object({ type: z.literal('adaptive'), display: z.enum(['summarized', 'omitted']).nullish() }),
  z.object({ type: z.literal('disabled') }),
]);

const TextContentSchema = z.union([z.string(), z.array(TextPartSchema)]);
const name = z.string().optional();

export const ChatMessageSchema = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: TextContentSchema, name }),
  z.object({ role: z.literal('developer'), content: TextContentSchema, name }),
  z.object({ role: z.literal('user'), content: z.union([z.string(), z.array(ContentPartSchema)]), name }),
  z.object({
    role: z.literal('assistant'),
    content: TextContentSchema.nullish(),
    tool_calls: z.array(ToolCallSchema).nullish(),
    refusal: z.string().nullish(),
    thinking_blocks: z.array(ThinkingBlockSchema).nullish(),
    name,
  }),
  z.object({
    role: z.literal('tool'),
    // Image parts are an extension (Anthropic tool results may hold images).
    content: z.union([z.string(), z.array(ContentPartSchema)]),
    tool_call_id: z.string(),
    is_error: z.boolean().nullish(),
    cache_control,
  }),
]);

export const FunctionToolSchema = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullish(),
  }),
  cache_control,
});

export const ToolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
]);

export const ResponseFormatSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z.string(),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullish(),
    }),
  }),
]);

/** Largest `n` the router accepts (non-OpenAI vendors answer it with n parallel calls). */
export const MAX_CHOICES = 8;

export const ChatRequestSchema = z.object({
  model: z.string().min(1),
  messages: z.array(ChatMessageSchema).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  tools: z.array(FunctionToolSchema).nullish(),
  tool_choice: ToolChoiceSchema.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: ResponseFormatSchema.nullish(),
  user: z.string().nullish(),
  seed: z.number().int().nullish(),
  n: z.number().int().min(1).max(MAX_CHOICES).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  top_k: z.number().int().min(0).nullish(),
  thinking: ThinkingConfigSchema.nullish(),
  cache_control,
});

export const EmbeddingRequestSchema = z.object({
  model: z.string().min(1),
  input: z.union([
    z.string(),
    z.array(z.string()).min(1),
    z.array(z.number().int()).min(1),
    z.array(z.array(z.number().int()).min(1)).min(1),
  ]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().positive().optional(),
  user: z.string().optional(),
});

export type TextContentPart = z.infer<typeof TextPartSchema>;
export type ImageContentPart = z.infer<typeof ImagePartSchema>;
export type ContentPart = z.infer<typeof ContentPartSchema>;
export type ToolCall = z.infer<typeof ToolCallSchema>;
export type ChatMessage = z.infer<typeof ChatMessageSchema>;
export type FunctionTool = z.infer<typeof FunctionToolSchema>;
export type ToolChoice = z.infer<typeof ToolChoiceSchema>;
export type ResponseFormat = z.infer<typeof ResponseFormatSchema>;
export type CacheControl = z.infer<typeof CacheControlSchema>;
export type ThinkingBlock = z.infer<typeof ThinkingBlockSchema>;
export type ThinkingConfig = z.infer<typeof ThinkingConfigSchema>;
/** POST /v1/chat/completions body. */
export type ChatRequest = z.infer<typeof ChatRequestSchema>;
/** POST /v1/embeddings body. */
export type EmbeddingRequest = z.infer<typeof EmbeddingRequestSchema>;

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

/**
 * OpenAI usage. `estimated: true` (a gateway extension) marks counts the adapter computed
 * itself (≈ chars/4) because the vendor reported none. `prompt_tokens` counts every prompt token:
 * `prompt_tokens_details.cached_tokens` of them were prompt-cache reads and (an extension, from
 * Anthropic) `cache_creation_input_tokens` were written to the prompt cache; each is priced at
 * its own rate.
 */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number };
  completion_tokens_details?: { reasoning_tokens?: number };
  cache_creation_input_tokens?: number;
  estimated?: boolean;
}

export interface AssistantResponseMessage {
  role: 'assistant';
  content: string | null;
  tool_calls?: ToolCall[];
  refusal?: string | null;
  /** Extension: the model's thinking blocks (Anthropic), in order, before the text. */
  thinking_blocks?: ThinkingBlock[];
}

/** `chat.completion` object. */
export interface ChatResponse {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: { index: number; message: AssistantResponseMessage; finish_reason: FinishReason | null }[];
  usage: Usage;
  system_fingerprint?: string | null;
}

/** A tool call fragment inside a streamed delta (arguments arrive in pieces). */
export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

/**
 * A thinking-block fragment inside a streamed delta (extension): `index` numbers the response's
 * thinking blocks; the first fragment of a block carries `type`, then `thinking` text arrives in
 * pieces and the `signature` last (a redacted block arrives whole, as `data`).
 */
export interface ThinkingDelta {
  index: number;
  type?: 'thinking' | 'redacted_thinking';
  thinking?: string;
  signature?: string;
  data?: string;
}

export interface ChunkDelta {
  role?: 'assistant';
  content?: string | null;
  tool_calls?: ToolCallDelta[];
  refusal?: string | null;
  thinking_blocks?: ThinkingDelta[];
}

/** `chat.completion.chunk` object. The final chunk has `choices: []` and carries `usage`. */
export interface ChatChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: { index: number; delta: ChunkDelta; finish_reason: FinishReason | null }[];
  usage?: Usage | null;
  system_fingerprint?: string | null;
}

export interface EmbeddingResponse {
  object: 'list';
  data: { object: 'embedding'; index: number; embedding: number[] }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number; estimated?: boolean };
}
