import { applyDecorators } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiExtraModels,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiProperty,
  ApiResponse,
  ApiTooManyRequestsResponse,
  getSchemaPath,
} from '@nestjs/swagger';

/**
 * Schema-only classes for POST /v1/messages and /v1/messages/count_tokens (Anthropic's Messages
 * API, the fields the router accepts). Nested blocks are inline JSON Schema; the request, the
 * response, the token count and the error are named components.
 */

const text = { type: 'string' };
const cacheControl = {
  type: 'object',
  nullable: true,
  description: 'Prompt-cache breakpoint (sent on to Claude models; other vendors have none)',
  required: ['type'],
  properties: { type: { type: 'string', enum: ['ephemeral'] }, ttl: { type: 'string', enum: ['5m', '1h'] } },
};
const block = (type: string, props: Record<string, object>, required: string[], cache = true) => ({
  type: 'object',
  title: `${type.replace(/(^|_)(\w)/g, (_m, _u, c: string) => c.toUpperCase())}Block`,
  required: ['type', ...required],
  properties: {
    type: { type: 'string', enum: [type] },
    ...props,
    ...(cache ? { cache_control: cacheControl } : {}),
  },
});
const textBlock = block('text', { text }, ['text']);
const imageBlock = block(
  'image',
  {
    source: {
      oneOf: [
        {
          type: 'object',
          required: ['type', 'media_type', 'data'],
          properties: {
            type: { type: 'string', enum: ['base64'] },
            media_type: { type: 'string', enum: ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] },
            data: text,
          },
        },
        {
          type: 'object',
          required: ['type', 'url'],
          properties: { type: { type: 'string', enum: ['url'] }, url: text },
        },
      ],
    },
  },
  ['source'],
);
const toolUseBlock = block(
  'tool_use',
  { id: text, name: text, input: { type: 'object', additionalProperties: true } },
  ['id', 'name', 'input'],
);
const thinkingBlock = block(
  'thinking',
  { thinking: text, signature: text },
  ['thinking', 'signature'],
  false,
);
const redactedThinkingBlock = block('redacted_thinking', { data: text }, ['data'], false);
const toolResultBlock = block(
  'tool_result',
  {
    tool_use_id: text,
    content: { oneOf: [text, { type: 'array', items: { oneOf: [textBlock, imageBlock] } }] },
    is_error: { type: 'boolean' },
  },
  ['tool_use_id'],
);
const message = {
  type: 'object',
  required: ['role', 'content'],
  properties: {
    role: { type: 'string', enum: ['user', 'assistant'] },
    content: {
      oneOf: [
        text,
        {
          type: 'array',
          description:
            'user: text, image, tool_result; assistant: text, tool_use, thinking, redacted_thinking',
          items: {
            oneOf: [
              textBlock,
              imageBlock,
              toolResultBlock,
              toolUseBlock,
              thinkingBlock,
              redactedThinkingBlock,
            ],
          },
        },
      ],
    },
  },
};
const tool = {
  type: 'object',
  required: ['name', 'input_schema'],
  properties: {
    type: { type: 'string', enum: ['custom'], nullable: true },
    name: text,
    description: text,
    input_schema: { type: 'object', additionalProperties: true, description: 'JSON Schema of the input' },
    cache_control: cacheControl,
  },
};
const toolChoice = {
  type: 'object',
  required: ['type'],
  properties: {
    type: { type: 'string', enum: ['auto', 'any', 'tool', 'none'] },
    name: { type: 'string', description: 'type tool: the tool to call' },
    disable_parallel_tool_use: { type: 'boolean' },
  },
};
const thinking = {
  type: 'object',
  required: ['type'],
  description: 'Extended thinking (Claude models; other vendors ignore it)',
  properties: {
    type: { type: 'string', enum: ['enabled', 'adaptive', 'disabled'] },
    budget_tokens: { type: 'integer', minimum: 1 },
  },
};

/** Fields that shape the prompt: shared by a message and a token count. */
export class MessagesPrompt {
  @ApiProperty({ description: 'Catalog id, provider/model or route alias: any model, not only Claude' })
  model!: string;
  @ApiProperty({ type: 'array', items: message, minItems: 1, example: [{ role: 'user', content: 'Hello' }] })
  messages!: object[];
  @ApiProperty({ required: false, oneOf: [text, { type: 'array', items: textBlock }] })
  system?: string | object[];
  @ApiProperty({ required: false, type: 'array', items: tool }) tools?: object[];
  @ApiProperty({ required: false, oneOf: [toolChoice] }) tool_choice?: object;
  @ApiProperty({ required: false, oneOf: [thinking] }) thinking?: object;
  @ApiProperty({ required: false, oneOf: [cacheControl] }) cache_control?: object;
}

export class MessagesRequest extends MessagesPrompt {
  @ApiProperty({ type: 'integer', minimum: 1 }) max_tokens!: number;
  @ApiProperty({ required: false, type: 'array', items: text }) stop_sequences?: string[];
  @ApiProperty({ required: false, minimum: 0, maximum: 1 }) temperature?: number;
  @ApiProperty({ required: false, minimum: 0, maximum: 1 }) top_p?: number;
  @ApiProperty({ required: false, type: 'integer', minimum: 0 }) top_k?: number;
  @ApiProperty({
    required: false,
    oneOf: [{ type: 'object', properties: { user_id: { type: 'string', nullable: true } } }],
  })
  metadata?: object;
  @ApiProperty({ required: false, description: "Answer with Anthropic's server-sent events" })
  stream?: boolean;
}

export class MessagesUsage {
  @ApiProperty({ type: 'integer', description: 'Prompt tokens neither read from nor written to the cache' })
  input_tokens!: number;
  @ApiProperty({ type: 'integer' }) output_tokens!: number;
  @ApiProperty({ type: 'integer' }) cache_creation_input_tokens!: number;
  @ApiProperty({ type: 'integer' }) cache_read_input_tokens!: number;
}

export class MessagesResponse {
  @ApiProperty({ example: 'msg_01XFDUDYJgAACzvnptvVoYEL' }) id!: string;
  @ApiProperty({ enum: ['message'] }) type!: string;
  @ApiProperty({ enum: ['assistant'] }) role!: string;
  @ApiProperty({ description: 'The catalog model that answered' }) model!: string;
  @ApiProperty({
    type: 'array',
    items: {
      oneOf: [
        { ...block('text', { text }, ['text'], false), title: 'ResponseTextBlock' },
        {
          ...block('tool_use', toolUseBlock.properties, ['id', 'name', 'input'], false),
          title: 'ResponseToolUseBlock',
        },
        thinkingBlock,
        redactedThinkingBlock,
      ],
    },
  })
  content!: object[];
  @ApiProperty({ enum: ['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal'] })
  stop_reason!: string;
  @ApiProperty({ type: String, nullable: true }) stop_sequence!: string | null;
  @ApiProperty({ type: () => MessagesUsage }) usage!: MessagesUsage;
}

export class MessageTokensCount {
  @ApiProperty({ type: 'integer', description: "The router's estimate (≈ 4 characters a token)" })
  input_tokens!: number;
}

export class AnthropicErrorDetail {
  @ApiProperty({
    enum: [
      'invalid_request_error',
      'authentication_error',
      'permission_error',
      'not_found_error',
      'request_too_large',
      'rate_limit_error',
      'api_error',
      'overloaded_error',
    ],
  })
  type!: string;
  @ApiProperty() message!: string;
}

export class AnthropicError {
  @ApiProperty({ enum: ['error'] }) type!: string;
  @ApiProperty({ type: () => AnthropicErrorDetail }) error!: AnthropicErrorDetail;
}

const anthropicErrors = () =>
  applyDecorators(
    ApiExtraModels(AnthropicError, AnthropicErrorDetail),
    ApiHeader({ name: 'anthropic-version', required: false, description: 'Accepted (2023-06-01)' }),
    ApiBadRequestResponse({
      type: AnthropicError,
      description: 'invalid_request_error: the message names the field',
    }),
    ApiResponse({
      status: 401,
      type: AnthropicError,
      description: 'authentication_error (x-api-key or Bearer)',
    }),
    ApiResponse({
      status: 403,
      type: AnthropicError,
      description: 'permission_error (scope, model allow-list)',
    }),
    ApiNotFoundResponse({ type: AnthropicError, description: 'not_found_error: unknown model' }),
  );

export function MessagesDocs(): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(MessagesRequest, MessagesResponse, MessagesUsage),
    ApiBody({ type: MessagesRequest }),
    ApiOkResponse({
      description:
        'A message; with `stream: true`, text/event-stream of message_start, content_block_start, ping, ' +
        'content_block_delta (text_delta, input_json_delta, thinking_delta, signature_delta), content_block_stop, ' +
        'message_delta (stop_reason and the usage) and message_stop; a stream cut upstream ends with an `error` event',
      content: {
        'application/json': { schema: { $ref: getSchemaPath(MessagesResponse) } },
        'text/event-stream': { schema: { type: 'string', description: 'Anthropic server-sent events' } },
      },
    }),
    anthropicErrors(),
    ApiResponse({
      status: 422,
      type: AnthropicError,
      description: 'invalid_request_error: refused by the PII policy',
    }),
    ApiTooManyRequestsResponse({
      type: AnthropicError,
      description: 'rate_limit_error: rate limit or budget',
    }),
    ApiResponse({
      status: 502,
      type: AnthropicError,
      description: 'api_error: every upstream attempt failed',
    }),
    ApiResponse({ status: 504, type: AnthropicError, description: 'api_error: upstream timeout' }),
  );
}

export function CountTokensDocs(): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(MessagesPrompt, MessageTokensCount),
    ApiBody({ type: MessagesPrompt }),
    ApiOkResponse({ type: MessageTokensCount }),
    anthropicErrors(),
  );
}
