import { applyDecorators } from '@nestjs/common';
import { Scopes } from '@app/auth';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiExtraModels,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTooManyRequestsResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  CompletionUsage,
} from './chat-completions.openapi';
import {
  CreateEmbeddingRequest,
  CreateEmbeddingResponse,
  Embedding,
  EmbeddingUsage,
} from './embeddings.openapi';
import { ErrorDetail, ErrorResponse } from './error.openapi';
import { Model, ModelList } from './models.openapi';
import {
  CreateResponseRequest,
  DeletedResponse,
  ResponseObject,
  ResponseStreamEvent,
  ResponseUsage,
} from './responses.openapi';

export * from './chat-completions.openapi';
export * from './embeddings.openapi';
export * from './error.openapi';
export * from './messages.openapi';
export * from './models.openapi';
export * from './responses.openapi';

/**
 * OpenAPI decorators of the OpenAI-compatible routes, one per handler, so a controller carries a
 * single documentation line and the schemas live here.
 */

const errors = (...extra: MethodDecorator[]) =>
  applyDecorators(
    ApiExtraModels(ErrorResponse, ErrorDetail),
    ApiBadRequestResponse({ type: ErrorResponse, description: 'Invalid request (param names the field)' }),
    // 401 and 403 are documented by @app/auth's guard decorators on every protected route.
    ...extra,
  );

const upstreamErrors = () =>
  applyDecorators(
    ApiNotFoundResponse({ type: ErrorResponse, description: 'Unknown model' }),
    ApiTooManyRequestsResponse({ type: ErrorResponse, description: 'Rate limit or budget (Retry-After)' }),
    ApiResponse({ status: 502, type: ErrorResponse, description: 'Every upstream attempt failed' }),
    ApiResponse({ status: 504, type: ErrorResponse, description: 'Upstream timeout or request deadline' }),
  );

export function ChatCompletionsDocs(): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(ChatCompletionRequest, ChatCompletion, ChatCompletionChunk, CompletionUsage),
    ApiBody({ type: ChatCompletionRequest }),
    ApiOkResponse({
      description:
        'chat.completion; with `stream: true`, text/event-stream of `data: <chat.completion.chunk>` lines ending with `data: [DONE]`',
      content: {
        'application/json': { schema: { $ref: getSchemaPath(ChatCompletion) } },
        'text/event-stream': {
          schema: {
            type: 'string',
            description: `Server-sent events; each data line is a ${'ChatCompletionChunk'}`,
          },
        },
      },
    }),
    errors(upstreamErrors()),
  );
}

export function EmbeddingsDocs(): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(CreateEmbeddingRequest, CreateEmbeddingResponse, Embedding, EmbeddingUsage),
    ApiBody({ type: CreateEmbeddingRequest }),
    ApiOkResponse({ type: CreateEmbeddingResponse }),
    errors(upstreamErrors()),
  );
}

export function ModelsListDocs(): MethodDecorator {
  return applyDecorators(ApiExtraModels(Model, ModelList), ApiOkResponse({ type: ModelList }), errors());
}

/** `GET /v1/models/{id}`: one model object, 404 for an id the caller cannot use. */
export function ModelRetrieveDocs(): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(Model),
    ApiOkResponse({ type: Model }),
    ApiNotFoundResponse({ type: ErrorResponse, description: 'Unknown model, or not usable by the caller' }),
    errors(),
  );
}

export function ResponsesCreateDocs(): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(CreateResponseRequest, ResponseObject, ResponseUsage, ResponseStreamEvent),
    ApiBody({ type: CreateResponseRequest }),
    ApiOkResponse({
      description:
        'response; with `stream: true`, text/event-stream of `event: <type>` / `data: <event>` pairs from ' +
        '`response.created` to `response.completed` (or `response.incomplete`, `response.failed`)',
      content: {
        'application/json': { schema: { $ref: getSchemaPath(ResponseObject) } },
        'text/event-stream': {
          schema: {
            type: 'string',
            description: 'Server-sent events; each data line is a ResponseStreamEvent',
          },
        },
      },
    }),
    errors(upstreamErrors()),
  );
}

const storedNotFound = () =>
  ApiNotFoundResponse({
    type: ErrorResponse,
    description: 'No such stored response for this tenant (never stored, deleted, expired or erased)',
  });

export function ResponsesRetrieveDocs(): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(ResponseObject),
    ApiOkResponse({ type: ResponseObject }),
    storedNotFound(),
  );
}

export function ResponsesDeleteDocs(): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(DeletedResponse),
    ApiOkResponse({ type: DeletedResponse }),
    storedNotFound(),
  );
}

/**
 * A route that calls a model: the `llm` scope, its OpenAPI operation and its documented bodies
 * and errors (applied in the order the three stacked decorators had: the docs first).
 */
export function ModelCallRoute(operation: { summary: string; description: string }, docs: MethodDecorator) {
  return applyDecorators(docs, ApiOperation(operation), Scopes('llm'));
}
