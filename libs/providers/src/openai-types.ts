import { z } from 'zod';

/**
 * The gateway's internal request/response types ARE OpenAI's chat completions and embeddings
 * schemas. Requests are zod schemas (the router validates incoming bodies with them; unknown
 * fields are stripped); responses are plain interfaces the adapters build.
 */

const TextPartSchema = z.object({ type: z.literal('text'), text: z.string() });
const ImagePartSchema = z.object({
  type: z.literal('image_url'),
  image_url: z.object({ url: z.string().min(1), detail: z.enum(['auto', 'low', 'high']).optional() }),
});
const ContentPartSchema = z.discriminatedUnion('type', [TextPartSchema, ImagePartSchema]);

export const ToolCallSchema = z.object({
  id: z.string(),
  type: z.literal('function'),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

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
    name,
  }),
  z.object({ role: z.literal('tool'), content: TextContentSchema, tool_call_id: z.string() }),
]);

export const FunctionToolSchema = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullish(),
  }),
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
/** POST /v1/chat/completions body. */
export type ChatRequest = z.infer<typeof ChatRequestSchema>;
/** POST /v1/embeddings body. */
export type EmbeddingRequest = z.infer<typeof EmbeddingRequestSchema>;

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

/**
 * OpenAI usage. `estimated: true` (a gateway extension) marks counts the adapter computed
 * itself (≈ chars/4) because the vendor reported none.
 */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number };
  completion_tokens_details?: { reasoning_tokens?: number };
  estimated?: boolean;
}

export interface AssistantResponseMessage {
  role: 'assistant';
  content: string | null;
  tool_calls?: ToolCall[];
  refusal?: string | null;
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

export interface ChunkDelta {
  role?: 'assistant';
  content?: string | null;
  tool_calls?: ToolCallDelta[];
  refusal?: string | null;
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
