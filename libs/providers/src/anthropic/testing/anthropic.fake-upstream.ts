import type { RequestIntent, Schema } from '../../testing/fake-schema';
import type { JsonValue } from '../../testing/fake-upstream.types';
import type { FakeVendorWire } from '../../testing/fake-vendor-wire';
import * as wire from './anthropic.fake-wire';

/** The fake Anthropic Messages API (JSON and SSE; no embeddings, no model list). */

/** The adapter puts the schema in the system prompt (`…conforms to this JSON Schema (named "x"): {…}`). */
function anthropicJsonSchema(system: JsonValue): Schema | null {
  const text =
    typeof system === 'string'
      ? system
      : Array.isArray(system)
        ? system.map((b: JsonValue) => b?.text ?? '').join('\n')
        : '';
  const m = /JSON Schema \(named "[^"]*"\): (\{[\s\S]*\})\s*$/.exec(text);
  if (m) return JSON.parse(m[1]) as Schema;
  return /single valid JSON object/.test(text) ? {} : null;
}

function anthropicIntent(body: JsonValue): RequestIntent {
  const tc = body?.tool_choice;
  const messages: JsonValue[] = body?.messages ?? [];
  const last = messages[messages.length - 1];
  const choice =
    tc?.type === 'any'
      ? 'required'
      : tc?.type === 'tool'
        ? { name: tc.name }
        : tc?.type === 'none'
          ? 'none'
          : 'auto';
  return {
    tools: (body?.tools ?? []).map((t: JsonValue) => ({ name: t.name, schema: t.input_schema ?? {} })),
    choice,
    afterToolResult:
      Array.isArray(last?.content) && last.content.some((b: JsonValue) => b?.type === 'tool_result'),
    jsonSchema: anthropicJsonSchema(body?.system),
  };
}

export const anthropicFakeWire: FakeVendorWire = {
  vendor: 'anthropic',
  basePath: '',
  idPrefix: 'msg_fake',
  route: (method, path, body) =>
    method === 'POST' && path === '/v1/messages'
      ? { operation: body?.stream ? 'stream' : 'chat' }
      : undefined,
  hasAuth: (headers) => !!headers['x-api-key'] && !!headers['anthropic-version'],
  intent: anthropicIntent,
  error: wire.anthropicError,
  streamError: wire.anthropicStreamError,
  completion: (r) => wire.anthropicMessage(r),
  stream: (r) => wire.anthropicStream(r),
};
