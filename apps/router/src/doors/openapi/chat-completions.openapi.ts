import { ApiProperty } from '@nestjs/swagger';

/**
 * Schema-only classes for POST /v1/chat/completions (OpenAI's chat completions schema, the fields
 * the router accepts; others are stripped). Nested shapes are inline JSON Schema; the top-level
 * request, response and chunk are named components so generated clients get types.
 */

const text = { type: 'string' };
const textParts = {
  type: 'array',
  items: {
    type: 'object',
    required: ['type', 'text'],
    properties: { type: { type: 'string', enum: ['text'] }, text },
  },
};
const imagePart = {
  type: 'object',
  required: ['type', 'image_url'],
  properties: {
    type: { type: 'string', enum: ['image_url'] },
    image_url: {
      type: 'object',
      required: ['url'],
      properties: {
        url: { type: 'string', description: 'https: URL or data: URL' },
        detail: { type: 'string', enum: ['auto', 'low', 'high'] },
      },
    },
  },
};
const toolCall = {
  type: 'object',
  required: ['id', 'type', 'function'],
  properties: {
    id: text,
    type: { type: 'string', enum: ['function'] },
    function: {
      type: 'object',
      required: ['name', 'arguments'],
      properties: { name: text, arguments: { type: 'string', description: 'JSON text' } },
    },
  },
};
const roleMessage = (
  role: string,
  content: object,
  extra: Record<string, object> = {},
  required = ['content'],
) => ({
  type: 'object',
  title: `${role[0].toUpperCase()}${role.slice(1)}Message`,
  required: ['role', ...required],
  properties: { role: { type: 'string', enum: [role] }, content, name: text, ...extra },
});
const message = {
  oneOf: [
    roleMessage('system', { oneOf: [text, textParts] }),
    roleMessage('developer', { oneOf: [text, textParts] }),
    roleMessage('user', {
      oneOf: [text, { type: 'array', items: { oneOf: [textParts.items, imagePart] } }],
    }),
    roleMessage(
      'assistant',
      { oneOf: [text, textParts], nullable: true },
      { tool_calls: { type: 'array', items: toolCall }, refusal: { type: 'string', nullable: true } },
      [],
    ),
    roleMessage('tool', { oneOf: [text, textParts] }, { tool_call_id: text }),
  ],
};
const tool = {
  type: 'object',
  required: ['type', 'function'],
  properties: {
    type: { type: 'string', enum: ['function'] },
    function: {
      type: 'object',
      required: ['name'],
      properties: {
        name: text,
        description: text,
        parameters: {
          type: 'object',
          additionalProperties: true,
          description: 'JSON Schema of the arguments',
        },
        strict: { type: 'boolean', nullable: true },
      },
    },
  },
};
const thinkingConfig = {
  type: 'object',
  required: ['type'],
  properties: {
    type: { type: 'string', enum: ['enabled', 'adaptive', 'disabled'] },
    budget_tokens: { type: 'integer', minimum: 1 },
  },
};
/** Extension: Claude's thinking blocks, in order (signatures kept for the next turn). */
const thinkingBlocks = {
  type: 'array',
  description: 'ATP extension: the thinking blocks of a Claude answer',
  items: {
    type: 'object',
    required: ['type'],
    properties: {
      type: { type: 'string', enum: ['thinking', 'redacted_thinking'] },
      thinking: text,
      signature: text,
      data: text,
    },
  },
};
// OpenAPI 3.0: a nullable enum lists null among its values.
const finishReason = { type: 'string', enum: ['stop', 'length', 'tool_calls', 'content_filter', null] };

export class PromptTokensDetails {
  @ApiProperty({ required: false, type: 'integer', description: 'Prompt tokens read from the prompt cache' })
  cached_tokens?: number;
}

export class CompletionTokensDetails {
  @ApiProperty({ required: false, type: 'integer' })
  reasoning_tokens?: number;
}

export class StreamOptions {
  @ApiProperty({ required: false, description: 'A last chunk with `choices: []` and `usage`' })
  include_usage?: boolean;
}

export class CompletionUsage {
  @ApiProperty({ type: 'integer' }) prompt_tokens!: number;
  @ApiProperty({ type: 'integer' }) completion_tokens!: number;
  @ApiProperty({ type: 'integer' }) total_tokens!: number;

  @ApiProperty({ required: false, type: () => PromptTokensDetails })
  prompt_tokens_details?: PromptTokensDetails;

  @ApiProperty({ required: false, type: () => CompletionTokensDetails })
  completion_tokens_details?: CompletionTokensDetails;

  @ApiProperty({
    required: false,
    type: 'integer',
    description: 'ATP (from Anthropic): prompt tokens written to the prompt cache, included in prompt_tokens',
  })
  cache_creation_input_tokens?: number;

  @ApiProperty({
    required: false,
    description: 'ATP: counts estimated (≈ chars/4) because the vendor reported none',
  })
  estimated?: boolean;
}

export class ChatCompletionRequest {
  @ApiProperty({
    description: 'Catalog id, provider/model or route alias (auto, fast, cheap, best)',
    example: 'gpt-4o-mini',
  })
  model!: string;

  @ApiProperty({
    type: 'array',
    items: message,
    minItems: 1,
    example: [{ role: 'user', content: 'Say hello' }],
  })
  messages!: object[];

  @ApiProperty({ required: false, description: 'Answer with server-sent events (chat.completion.chunk)' })
  stream?: boolean;

  @ApiProperty({ required: false, nullable: true, type: () => StreamOptions })
  stream_options?: StreamOptions;

  @ApiProperty({ required: false, minimum: 0, maximum: 2 }) temperature?: number;
  @ApiProperty({ required: false, minimum: 0, maximum: 1 }) top_p?: number;
  @ApiProperty({ required: false, type: 'integer', minimum: 1 }) max_tokens?: number;
  @ApiProperty({ required: false, type: 'integer', minimum: 1 }) max_completion_tokens?: number;

  @ApiProperty({ required: false, oneOf: [text, { type: 'array', items: text, maxItems: 4 }] })
  stop?: string | string[];

  @ApiProperty({ required: false, type: 'array', items: tool })
  tools?: object[];

  @ApiProperty({
    required: false,
    oneOf: [
      { type: 'string', enum: ['none', 'auto', 'required'] },
      {
        type: 'object',
        required: ['type', 'function'],
        properties: {
          type: { type: 'string', enum: ['function'] },
          function: { type: 'object', required: ['name'], properties: { name: text } },
        },
      },
    ],
  })
  tool_choice?: string | object;

  @ApiProperty({ required: false }) parallel_tool_calls?: boolean;

  @ApiProperty({
    required: false,
    oneOf: [
      {
        type: 'object',
        required: ['type'],
        properties: { type: { type: 'string', enum: ['text', 'json_object'] } },
      },
      {
        type: 'object',
        required: ['type', 'json_schema'],
        properties: {
          type: { type: 'string', enum: ['json_schema'] },
          json_schema: {
            type: 'object',
            required: ['name'],
            properties: {
              name: text,
              description: text,
              schema: { type: 'object', additionalProperties: true },
              strict: { type: 'boolean', nullable: true },
            },
          },
        },
      },
    ],
  })
  response_format?: object;

  @ApiProperty({ required: false }) user?: string;
  @ApiProperty({ required: false, type: 'integer' }) seed?: number;
  @ApiProperty({
    required: false,
    type: 'integer',
    minimum: 1,
    maximum: 8,
    description:
      'Number of choices (other vendors than OpenAI: n parallel calls, usage summed); n > 1 with stream is a 400',
  })
  n?: number;
  @ApiProperty({ required: false, minimum: -2, maximum: 2 }) presence_penalty?: number;
  @ApiProperty({ required: false, minimum: -2, maximum: 2 }) frequency_penalty?: number;
  @ApiProperty({
    required: false,
    type: 'integer',
    minimum: 0,
    description: 'ATP extension: top-k sampling (Anthropic, Gemini; dropped for OpenAI)',
  })
  top_k?: number;
  @ApiProperty({
    required: false,
    oneOf: [thinkingConfig],
    description: 'ATP extension: extended thinking for Claude models (dropped for other vendors)',
  })
  thinking?: object;
}

export class ChatCompletion {
  @ApiProperty({ example: 'chatcmpl-123' }) id!: string;
  @ApiProperty({ enum: ['chat.completion'] }) object!: 'chat.completion';
  @ApiProperty({ type: 'integer' }) created!: number;
  @ApiProperty() model!: string;

  @ApiProperty({
    type: 'array',
    items: {
      type: 'object',
      required: ['index', 'message', 'finish_reason'],
      properties: {
        index: { type: 'integer' },
        message: {
          type: 'object',
          required: ['role', 'content'],
          properties: {
            role: { type: 'string', enum: ['assistant'] },
            content: { type: 'string', nullable: true },
            tool_calls: { type: 'array', items: toolCall },
            refusal: { type: 'string', nullable: true },
            thinking_blocks: thinkingBlocks,
          },
        },
        finish_reason: { ...finishReason, nullable: true },
      },
    },
  })
  choices!: object[];

  @ApiProperty({ type: () => CompletionUsage }) usage!: CompletionUsage;
  @ApiProperty({ required: false, nullable: true }) system_fingerprint?: string;
}

/** One server-sent event of a streamed completion (`data: {…}`; the stream ends with `data: [DONE]`). */
export class ChatCompletionChunk {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['chat.completion.chunk'] }) object!: 'chat.completion.chunk';
  @ApiProperty({ type: 'integer' }) created!: number;
  @ApiProperty() model!: string;

  @ApiProperty({
    type: 'array',
    description: 'Empty in the usage chunk',
    items: {
      type: 'object',
      required: ['index', 'delta', 'finish_reason'],
      properties: {
        index: { type: 'integer' },
        delta: {
          type: 'object',
          properties: {
            role: { type: 'string', enum: ['assistant'] },
            content: { type: 'string', nullable: true },
            tool_calls: {
              type: 'array',
              items: {
                type: 'object',
                required: ['index'],
                properties: {
                  index: { type: 'integer' },
                  id: text,
                  type: { type: 'string', enum: ['function'] },
                  function: { type: 'object', properties: { name: text, arguments: text } },
                },
              },
            },
            refusal: { type: 'string', nullable: true },
            thinking_blocks: {
              type: 'array',
              description: 'ATP extension: thinking fragments (index, type first, then thinking, signature)',
              items: {
                type: 'object',
                required: ['index'],
                properties: {
                  index: { type: 'integer' },
                  type: { type: 'string', enum: ['thinking', 'redacted_thinking'] },
                  thinking: text,
                  signature: text,
                  data: text,
                },
              },
            },
          },
        },
        finish_reason: { ...finishReason, nullable: true },
      },
    },
  })
  choices!: object[];

  @ApiProperty({ required: false, nullable: true, type: () => CompletionUsage })
  usage?: CompletionUsage | null;
}
