import { EmbeddingsController } from '../embeddings.controller';
import { EmbeddingsDocs } from './index';

/** Where @nestjs/swagger keeps a handler's explicit parameters (`DECORATORS.API_PARAMETERS`). */
const API_PARAMETERS = 'swagger/apiParameters';

/**
 * Documents POST /v1/embeddings with the typed schemas without editing embeddings.controller.ts,
 * which another branch changes in the same round. Once merged, this file goes and the handler
 * carries `@EmbeddingsDocs()` in place of its `@ApiBody`, like the chat and models handlers.
 * The handler's untyped `@ApiBody` is dropped first: swagger keeps the first body it finds.
 */
export function documentEmbeddingsRoute(): void {
  const proto = EmbeddingsController.prototype;
  const descriptor = Object.getOwnPropertyDescriptor(proto, 'create')!;
  const params = (Reflect.getMetadata(API_PARAMETERS, descriptor.value) ?? []) as { in?: string }[];
  Reflect.defineMetadata(
    API_PARAMETERS,
    params.filter((p) => p.in !== 'body'),
    descriptor.value,
  );
  EmbeddingsDocs()(proto, 'create', descriptor);
}
