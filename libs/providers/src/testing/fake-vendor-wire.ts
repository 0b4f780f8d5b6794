import type { IncomingHttpHeaders } from 'node:http';
import type { RequestIntent } from './fake-schema';
import type { FakeOperation, JsonValue, RecordedRequest } from './fake-upstream.types';
import type { FakeReply } from './fake-wire.common';

/** Which operation a request is, and the model when the vendor puts it in the path (Gemini). */
export interface FakeRoute {
  operation: FakeOperation;
  model?: string;
}

/**
 * One vendor's side of the fake upstream server (`<vendor>/testing/`, named by its provider
 * definition): which requests are its, how it checks auth, how it reads a request's tools and
 * schemas, and its wire bodies. The server (fake-upstreams.ts) owns sockets, faults and timing.
 */
export interface FakeVendorWire {
  /** The provider id; recorded as `RecordedRequest.vendor`. */
  readonly vendor: string;
  /** What follows the server's URL in this vendor's base URL (`/v1` for OpenAI, else empty). */
  readonly basePath: string;
  /** Prefix of the reply ids (`chatcmpl-fake` → `chatcmpl-fake1`, `chatcmpl-fake2`, …). */
  readonly idPrefix: string;
  route(method: string, path: string, body: JsonValue): FakeRoute | undefined;
  /** Whether the request carries this vendor's auth headers (answered 401 otherwise). */
  hasAuth(headers: IncomingHttpHeaders, url: string): boolean;
  /** A status the vendor answers before anything else (Gemini: a stream without `alt=sse`). */
  refuse?(req: RecordedRequest): number | undefined;
  /** The request's tools, tool choice and output schema, for `followSchemas`. */
  intent(body: JsonValue): RequestIntent;
  error(status: number): unknown;
  /** The error event a stream carries when it fails mid-way. */
  streamError(): string;
  completion(reply: FakeReply, created: number): unknown;
  stream(reply: FakeReply, req: RecordedRequest, created: number): string[];
  /** For vendors that route `embed` requests. */
  embeddings?(req: RecordedRequest, dims: number): unknown;
  /** The model list (`GET /models`), for vendors that route one. */
  models?(): unknown;
}
