import { fakeVector } from '../../testing/fake-wire.common';
import type { RequestIntent } from '../../testing/fake-schema';
import type { FakeOperation, JsonValue } from '../../testing/fake-upstream.types';
import type { FakeVendorWire } from '../../testing/fake-vendor-wire';
import * as wire from './google.fake-wire';

/** The fake Gemini API: generateContent, streamGenerateContent?alt=sse, embedContent, batchEmbedContents. */

const PATH_RE =
  /^\/(v1|v1beta)\/models\/([^/:]+):(generateContent|streamGenerateContent|embedContent|batchEmbedContents)$/;

const OPERATION: Record<string, FakeOperation> = {
  generateContent: 'chat',
  streamGenerateContent: 'stream',
  embedContent: 'embed',
  batchEmbedContents: 'embed',
};

function googleIntent(body: JsonValue): RequestIntent {
  const fc = body?.toolConfig?.functionCallingConfig;
  const contents: JsonValue[] = body?.contents ?? [];
  const last = contents[contents.length - 1];
  const allowed: string[] = fc?.allowedFunctionNames ?? [];
  const choice =
    fc?.mode === 'NONE'
      ? 'none'
      : fc?.mode === 'ANY'
        ? allowed.length === 1
          ? { name: allowed[0] }
          : 'required'
        : 'auto';
  const gen = body?.generationConfig ?? {};
  return {
    tools: (body?.tools ?? []).flatMap((t: JsonValue) =>
      (t.functionDeclarations ?? []).map((f: JsonValue) => ({ name: f.name, schema: f.parameters ?? {} })),
    ),
    choice,
    afterToolResult: (last?.parts ?? []).some((p: JsonValue) => p?.functionResponse),
    jsonSchema:
      gen.responseJsonSchema ??
      gen.responseSchema ??
      (gen.responseMimeType === 'application/json' ? {} : null),
  };
}

const partsText = (c: JsonValue): string => (c?.parts ?? []).map((p: JsonValue) => p?.text ?? '').join('');

function embeddings(url: string, body: JsonValue, dims: number): unknown {
  if (!url.includes(':batchEmbedContents'))
    return { embedding: { values: fakeVector(partsText(body?.content), dims) } };
  const list: JsonValue[] = body?.requests ?? [];
  return {
    embeddings: list.map((r) => ({
      values: fakeVector(partsText(r.content), r.outputDimensionality ?? dims),
    })),
  };
}

export const googleFakeWire: FakeVendorWire = {
  vendor: 'google',
  basePath: '',
  idPrefix: 'resp_fake',
  route(method, path) {
    const m = method === 'POST' ? PATH_RE.exec(path) : null;
    return m ? { operation: OPERATION[m[3]], model: decodeURIComponent(m[2]) } : undefined;
  },
  hasAuth: (headers, url) => !!headers['x-goog-api-key'] || /[?&]key=/.test(url),
  // The real API answers a stream request without alt=sse with a JSON array, which no adapter reads.
  refuse: (req) => (req.operation === 'stream' && !/[?&]alt=sse/.test(req.url) ? 400 : undefined),
  intent: googleIntent,
  error: wire.googleError,
  streamError: wire.googleStreamError,
  completion: (r) => wire.geminiResponse(r),
  stream: (r) => wire.geminiStream(r),
  embeddings: (req, dims) => embeddings(req.url, req.body, dims),
};
