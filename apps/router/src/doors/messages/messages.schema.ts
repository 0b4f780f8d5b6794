import { CacheControlSchema, ThinkingConfigSchema } from '@app/providers';
import { z } from 'zod';

/**
 * The Anthropic Messages API request (`POST /v1/messages`, anthropic-version 2023-06-01) as this
 * door accepts it: the fields a client can send for a model call. Unknown top-level fields are
 * stripped, as on the chat door; an unknown content block type is refused with a 400 naming it
 * (dropping a block silently would change the conversation).
 */

const cache_control = CacheControlSchema.nullish();

export const TextBlockSchema = z.object({
  type: z.literal('text'),
  text: z.string(),
  cache_control,
});

const ImageSourceSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('base64'),
    media_type: z.enum(['image/jpeg', 'image/png', 'image/gif', 'image/webp']),
    data: z.string().min(1),
  }),
  z.object({ type: z.literal('url'), url: z.string().min(1) }),
]);

export const ImageBlockSchema = z.object({
  type: z.literal('image'),
  source: ImageSourceSchema,
  cache_control,
});

const ToolResultBlockSchema = z.object({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: z
    .union([z.string(), z.array(z.discriminatedUnion('type', [TextBlockSchema, ImageBlockSchema]))])
    .optional(),
  is_error: z.boolean().optional(),
  cache_control,
});

const ToolUseBlockSchema = z.object({
  type: z.literal('tool_use'),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
  cache_control,
});

const ThinkingBlockSchema = z.object({
  type: z.literal('thinking'),
  thinking: z.string(),
  signature: z.string(),
});

const RedactedThinkingBlockSchema = z.object({ type: z.literal('redacted_thinking'), data: z.string() });

const UserBlockSchema = z.discriminatedUnion('type', [
  TextBlockSchema,
  ImageBlockSchema,
  ToolResultBlockSchema,
]);
const AssistantBlockSchema = z.discriminatedUnion('type', [
  TextBlockSchema,
  ToolUseBlockSchema,
  ThinkingBlockSchema,
  RedactedThinkingBlockSchema,
]);

const MessageParamSchema = z.discriminatedUnion('role', [
  z.object({ role: z.literal('user'), content: z.union([z.string(), z.array(UserBlockSchema)]) }),
  z.object({ role: z.literal('assistant'), content: z.union([z.string(), z.array(AssistantBlockSchema)]) }),
]);

const ToolSchema = z.object({
  // Client tools only: Anthropic's server tools (web search, code execution, …) run at Anthropic
  // and have no meaning for the other vendors a model name may route to.
  type: z
    .literal('custom', {
      error: 'only client tools are supported (type "custom" or none); Anthropic server tools are not',
    })
    .nullish(),
  name: z.string().min(1).max(128),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()),
  cache_control,
});

const disable_parallel_tool_use = z.boolean().optional();
const ToolChoiceSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('auto'), disable_parallel_tool_use }),
  z.object({ type: z.literal('any'), disable_parallel_tool_use }),
  z.object({ type: z.literal('tool'), name: z.string().min(1), disable_parallel_tool_use }),
  z.object({ type: z.literal('none') }),
]);

const fields = {
  model: z.string().min(1),
  messages: z.array(MessageParamSchema).min(1),
  system: z.union([z.string(), z.array(TextBlockSchema)]).optional(),
  tools: z.array(ToolSchema).optional(),
  tool_choice: ToolChoiceSchema.optional(),
  thinking: ThinkingConfigSchema.optional(),
  cache_control,
};

/** `POST /v1/messages` body. */
export const MessagesRequestSchema = z.object({
  ...fields,
  max_tokens: z.number().int().min(1),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  metadata: z.object({ user_id: z.string().nullish() }).optional(),
  stream: z.boolean().optional(),
});

/** `POST /v1/messages/count_tokens` body: what shapes the prompt (no max_tokens, no sampling). */
export const CountTokensRequestSchema = z.object(fields);

export type MessagesRequest = z.infer<typeof MessagesRequestSchema>;
export type CountTokensRequest = z.infer<typeof CountTokensRequestSchema>;
export type MessageParam = z.infer<typeof MessageParamSchema>;
export type UserBlock = z.infer<typeof UserBlockSchema>;
export type AssistantBlock = z.infer<typeof AssistantBlockSchema>;
export type TextBlock = z.infer<typeof TextBlockSchema>;
export type ImageBlock = z.infer<typeof ImageBlockSchema>;
