import { isObject, type RequestIntent } from '../../testing/fake-schema';
import type { JsonValue } from '../../testing/fake-upstream.types';
import type { FakeVendorWire } from '../../testing/fake-vendor-wire';
import * as wire from './openai.fake-wire';

/** The fake OpenAI API: chat completions (JSON and SSE), embeddings and the model list. */

function openaiIntent(body: JsonValue): RequestIntent {
  const tc = body?.tool_choice;
  const messages: JsonValue[] = body?.messages ?? [];
  const format = body?.response_format;
  return {
    tools: (body?.tools ?? []).map((t: JsonValue) => ({
      name: t.function?.name,
      schema: t.function?.parameters ?? {},
    })),
    choice:
      typeof tc === 'string'
        ? (tc as RequestIntent['choice'])
        : isObject(tc)
          ? { name: tc.function?.name }
          : 'auto',
    afterToolResult: messages[messages.length - 1]?.role === 'tool',
    jsonSchema:
      format?.type === 'json_schema'
        ? (format.json_schema?.schema ?? {})
        : format?.type === 'json_object'
          ? {}
          : null,
  };
}

function embeddingInputs(body: JsonValue): string[] {
  const input = body?.input;
  return (Array.isArray(input) ? input : [input]).map((x: unknown) =>
    typeof x === 'string' ? x : JSON.stringify(x),
  );
}

export const openaiFakeWire: FakeVendorWire = {
  vendor: 'openai',
  basePath: '/v1',
  idPrefix: 'chatcmpl-fake',
  route(method, path, body) {
    if (method === 'GET' && (path === '/v1/models' || path === '/models')) return { operation: 'models' };
    if (method !== 'POST') return undefined;
    if (path === '/v1/chat/completions' || path === '/chat/completions') {
      return { operation: body?.stream ? 'stream' : 'chat' };
    }
    if (path === '/v1/embeddings' || path === '/embeddings') return { operation: 'embed' };
    return undefined;
  },
  hasAuth: (headers) => /^Bearer \S+/.test(headers.authorization ?? ''),
  intent: openaiIntent,
  error: wire.openaiError,
  streamError: wire.openaiStreamError,
  completion: wire.openaiCompletion,
  stream: (r, req, created) => wire.openaiStream(r, created, !!req.body?.stream_options?.include_usage),
  embeddings: (req, dims) => wire.openaiEmbeddings(req.model, embeddingInputs(req.body), dims),
  models: () => ({
    object: 'list',
    data: [{ id: 'gpt-4o-mini', object: 'model', created: 0, owned_by: 'fake' }],
  }),
};
