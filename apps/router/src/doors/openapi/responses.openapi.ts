import { ApiProperty, type ApiPropertyOptions } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

/**
 * Schema-only classes for POST /v1/responses and GET/DELETE /v1/responses/{id}: OpenAI's
 * Responses API, the part this door accepts and produces (function tools only; see README).
 */

const text = { type: 'string' };
const inputText = {
  type: 'object',
  required: ['type', 'text'],
  properties: { type: { type: 'string', enum: ['input_text'] }, text },
};
const outputText = {
  type: 'object',
  required: ['type', 'text', 'annotations'],
  properties: {
    type: { type: 'string', enum: ['output_text'] },
    text,
    annotations: { type: 'array', items: { type: 'object' } },
    logprobs: { type: 'array', items: { type: 'object' } },
  },
};
const refusal = {
  type: 'object',
  required: ['type', 'refusal'],
  properties: { type: { type: 'string', enum: ['refusal'] }, refusal: text },
};
const inputImage = {
  type: 'object',
  required: ['type', 'image_url'],
  properties: {
    type: { type: 'string', enum: ['input_image'] },
    image_url: { type: 'string', description: 'https: URL or data: URL (file_id is not supported)' },
    detail: { type: 'string', enum: ['auto', 'low', 'high'] },
  },
};
const status = { type: 'string', enum: ['in_progress', 'completed', 'incomplete'] };
const messageItem = {
  type: 'object',
  title: 'MessageItem',
  required: ['role', 'content'],
  properties: {
    type: { type: 'string', enum: ['message'] },
    role: { type: 'string', enum: ['user', 'assistant', 'system', 'developer'] },
    content: {
      oneOf: [text, { type: 'array', items: { oneOf: [inputText, inputImage, outputText, refusal] } }],
    },
  },
};
const functionCall = {
  type: 'object',
  title: 'FunctionCallItem',
  required: ['type', 'call_id', 'name', 'arguments'],
  properties: {
    type: { type: 'string', enum: ['function_call'] },
    id: text,
    call_id: text,
    name: text,
    arguments: { type: 'string', description: 'JSON text' },
    status,
  },
};
const functionCallOutput = {
  type: 'object',
  title: 'FunctionCallOutputItem',
  required: ['type', 'call_id', 'output'],
  properties: {
    type: { type: 'string', enum: ['function_call_output'] },
    call_id: text,
    output: { oneOf: [text, { type: 'array', items: inputText }] },
  },
};
const functionTool = {
  type: 'object',
  required: ['type', 'name'],
  properties: {
    type: { type: 'string', enum: ['function'] },
    name: text,
    description: { type: 'string', nullable: true },
    parameters: { type: 'object', additionalProperties: true, nullable: true, description: 'JSON Schema' },
    strict: { type: 'boolean', nullable: true },
  },
};
const toolChoice: SchemaObject = {
  oneOf: [
    { type: 'string', enum: ['none', 'auto', 'required'] },
    {
      type: 'object',
      required: ['type', 'name'],
      properties: { type: { type: 'string', enum: ['function'] }, name: text },
    },
  ],
};
const textFormat: SchemaObject = {
  oneOf: [
    {
      type: 'object',
      required: ['type'],
      properties: { type: { type: 'string', enum: ['text', 'json_object'] } },
    },
    {
      type: 'object',
      required: ['type', 'name', 'schema'],
      properties: {
        type: { type: 'string', enum: ['json_schema'] },
        name: text,
        description: text,
        schema: { type: 'object', additionalProperties: true },
        strict: { type: 'boolean', nullable: true },
      },
    },
  ],
};
const outputMessage = {
  type: 'object',
  title: 'OutputMessage',
  required: ['type', 'id', 'role', 'status', 'content'],
  properties: {
    type: { type: 'string', enum: ['message'] },
    id: text,
    role: { type: 'string', enum: ['assistant'] },
    status,
    content: { type: 'array', items: { oneOf: [outputText, refusal] } },
  },
};
const outputFunctionCall = {
  ...functionCall,
  title: 'OutputFunctionCall',
  required: ['type', 'id', 'call_id', 'name', 'arguments', 'status'],
};

export class InputTokensDetails {
  @ApiProperty({ type: 'integer', description: 'Prompt tokens read from the prompt cache' })
  cached_tokens!: number;
}

export class OutputTokensDetails {
  @ApiProperty({ type: 'integer' }) reasoning_tokens!: number;
}

export class ResponseUsage {
  @ApiProperty({ type: 'integer' }) input_tokens!: number;
  @ApiProperty({ type: () => InputTokensDetails }) input_tokens_details!: InputTokensDetails;
  @ApiProperty({ type: 'integer' }) output_tokens!: number;
  @ApiProperty({ type: () => OutputTokensDetails }) output_tokens_details!: OutputTokensDetails;
  @ApiProperty({ type: 'integer' }) total_tokens!: number;
}

export class ResponseTextConfig {
  @ApiProperty({ required: false, ...textFormat } as ApiPropertyOptions) format?: object;
}

export class ResponseReasoning {
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Always null: reasoning settings are not forwarded',
  })
  effort!: null;
  @ApiProperty({ type: String, nullable: true }) summary!: null;
}

export class CreateResponseRequest {
  @ApiProperty({ description: 'Catalog id, provider/model or route alias', example: 'claude-sonnet-4-5' })
  model!: string;

  @ApiProperty({
    required: false,
    description:
      'A string (one user message) or items; required unless previous_response_id continues a conversation',
    oneOf: [text, { type: 'array', items: { oneOf: [messageItem, functionCall, functionCallOutput] } }],
    example: 'Say hello',
  })
  input?: string | object[];

  @ApiProperty({
    required: false,
    nullable: true,
    description: 'A system message for this turn (not carried over)',
  })
  instructions?: string;

  @ApiProperty({ required: false, type: 'array', items: functionTool, description: 'Function tools only' })
  tools?: object[];

  @ApiProperty({ required: false, ...toolChoice } as ApiPropertyOptions) tool_choice?: string | object;
  @ApiProperty({ required: false, type: () => ResponseTextConfig }) text?: ResponseTextConfig;
  @ApiProperty({ required: false, type: 'integer', minimum: 1, nullable: true }) max_output_tokens?: number;
  @ApiProperty({ required: false, minimum: 0, maximum: 2, nullable: true }) temperature?: number;
  @ApiProperty({ required: false, minimum: 0, maximum: 1, nullable: true }) top_p?: number;
  @ApiProperty({ required: false, nullable: true }) parallel_tool_calls?: boolean;
  @ApiProperty({
    required: false,
    type: 'object',
    additionalProperties: { type: 'string', maxLength: 512 },
    description: 'At most 16 keys; echoed, not sent to the model',
  } as unknown as ApiPropertyOptions)
  metadata?: Record<string, string>;
  @ApiProperty({ required: false }) user?: string;
  @ApiProperty({ required: false, description: 'Answer with the Responses stream events' }) stream?: boolean;
  @ApiProperty({
    required: false,
    default: true,
    description: 'Keep the response (per tenant, encrypted, TTL)',
  })
  store?: boolean;
  @ApiProperty({ required: false, nullable: true, description: 'A stored response this one continues' })
  previous_response_id?: string;
}

export class ResponseObject {
  @ApiProperty({ example: 'resp_68af4030592c81938ec0a5fbab4a3e9f05438e46b5f69a3b' }) id!: string;
  @ApiProperty({ enum: ['response'] }) object!: 'response';
  @ApiProperty({ type: 'integer' }) created_at!: number;
  @ApiProperty({ enum: ['in_progress', 'completed', 'incomplete', 'failed'] }) status!: string;
  @ApiProperty() background!: boolean;
  // Inline, not a $ref: OpenAPI 3.0 ignores `nullable` beside a $ref, and these are null when all went well.
  @ApiProperty({
    type: 'object',
    nullable: true,
    additionalProperties: false,
    properties: { code: { type: 'string' }, message: { type: 'string' } },
    description: 'Set when status is failed',
  })
  error!: { code: string; message: string } | null;
  @ApiProperty({
    type: 'object',
    nullable: true,
    additionalProperties: false,
    properties: { reason: { type: 'string', enum: ['max_output_tokens', 'content_filter'] } },
    description: 'Set when status is incomplete',
  })
  incomplete_details!: { reason: string } | null;
  @ApiProperty({ type: String, nullable: true }) instructions!: string | null;
  @ApiProperty({ type: 'integer', nullable: true }) max_output_tokens!: number | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) metadata!: Record<
    string,
    string
  >;
  @ApiProperty({ description: 'The catalog model that answered' }) model!: string;
  @ApiProperty({ type: 'array', items: { oneOf: [outputMessage, outputFunctionCall] } }) output!: object[];
  @ApiProperty() parallel_tool_calls!: boolean;
  @ApiProperty({ type: String, nullable: true }) previous_response_id!: string | null;
  @ApiProperty({ type: () => ResponseReasoning }) reasoning!: ResponseReasoning;
  @ApiProperty() store!: boolean;
  @ApiProperty({ type: Number, nullable: true }) temperature!: number | null;
  @ApiProperty({ type: () => ResponseTextConfig }) text!: ResponseTextConfig;
  @ApiProperty(toolChoice as ApiPropertyOptions) tool_choice!: string | object;
  @ApiProperty({ type: 'array', items: functionTool }) tools!: object[];
  @ApiProperty({ type: Number, nullable: true }) top_p!: number | null;
  @ApiProperty({ enum: ['disabled'] }) truncation!: string;
  @ApiProperty({ type: () => ResponseUsage, nullable: true }) usage!: ResponseUsage | null;
  @ApiProperty({ type: String, nullable: true }) user!: string | null;
}

/** One server-sent event of a streamed response (`event: <type>` and this object as `data`). */
export class ResponseStreamEvent {
  @ApiProperty({
    example: 'response.output_text.delta',
    description:
      'response.created, response.in_progress, response.output_item.added, response.content_part.added, ' +
      'response.output_text.delta, response.output_text.done, response.refusal.delta, response.refusal.done, ' +
      'response.content_part.done, response.function_call_arguments.delta, ' +
      'response.function_call_arguments.done, response.output_item.done, then response.completed, ' +
      'response.incomplete (token limit) or response.failed (the stream broke)',
  })
  type!: string;
  @ApiProperty({ type: 'integer', description: 'From 0, one more per event' }) sequence_number!: number;
}

export class DeletedResponse {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['response'] }) object!: 'response';
  @ApiProperty({ enum: [true] }) deleted!: true;
}
