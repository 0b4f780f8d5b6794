import type { Caller } from '@app/auth';
import type { AtpError } from '@app/common';
import type {
  AbortLike,
  ChatChunk,
  ChatRequest,
  ChatResponse,
  EmbeddingRequest,
  EmbeddingResponse,
} from '@app/providers';

/**
 * The wire format a call came in by. The pipeline does not depend on it except to label what it
 * records: usage rows (`endpoint`), audit events (`action`) and metrics (`door`).
 */
export type Door = 'chat' | 'embeddings' | 'responses' | 'messages';

/** The request-level options every door honours (from headers; the door reads them). */
export interface CallOptions {
  /** `x-atp-cache`: use (default), bypass, refresh. */
  cacheDirective?: string;
  /** `x-atp-cache-ttl`: seconds (validated by the pipeline). */
  cacheTtl?: string;
  /** `x-atp-session-id`: conversation turns from the memory gateway. */
  sessionId?: string;
  /** The caller's own credential, passed on to the memory gateway for the session. */
  sessionAuthorization?: string;
}

/** A model call as every door hands it to the pipeline: the canonical (OpenAI chat) request. */
export interface CallRequest {
  door: Door;
  caller: Caller;
  body: ChatRequest;
  options: CallOptions;
  /** Aborted when the client goes away (the door wires it to its connection). */
  signal: AbortLike;
  /** Date.now() when the request arrived. */
  started: number;
}

/** An embeddings call. */
export interface EmbedRequest {
  door: Door;
  caller: Caller;
  body: EmbeddingRequest;
  options: CallOptions;
  signal: AbortLike;
  started: number;
}

/**
 * What the pipeline tells the door about a call it served: the door writes `headers` on its
 * response (JSON or the stream's head) as they are.
 */
export interface CallMeta {
  /** The catalog model that answered (the id clients see). */
  model: string;
  provider: string;
  /** x-atp-provider, x-atp-model, x-atp-route, x-atp-attempts, x-atp-cache, x-atp-pii, x-ratelimit-*, … */
  headers: Record<string, string>;
}

export interface CompletedCall {
  response: ChatResponse;
  meta: CallMeta;
}

/**
 * A streamed call whose first chunk arrived (before it, failures fell back or were thrown as an
 * AtpError for the door to answer). Iterating `chunks` relays the rest; the ledger closes the call
 * before the iterator finishes. A failure after the first chunk ends the iteration by throwing a
 * {@link StreamCut}, already recorded: the door ends its stream with its own error event.
 */
export interface StreamedCall {
  meta: CallMeta;
  chunks: AsyncIterable<ChatChunk>;
  /**
   * For a door that cannot start its stream after all (e.g. its head could not be written):
   * stops the upstream and closes the call as failed. Without it, a stream never iterated would
   * hold its concurrency slot and reservation until their lease ran out. No-op once iterated.
   */
  cancel(): Promise<void>;
}

export interface EmbeddedCall {
  response: EmbeddingResponse;
  meta: CallMeta;
}

/**
 * A stream that ended early after its first chunk. `error` is what the door tells the client in
 * its own error event (a 502 upstream cut, a 503 shutdown); `clientGone` means nobody is left to
 * tell. The call is already billed and recorded when this is thrown.
 */
export class StreamCut extends Error {
  constructor(
    readonly error: AtpError,
    readonly clientGone: boolean,
  ) {
    super(error.message);
  }
}
