import type { GateStats } from './connection-gate';
import type { AbortLike } from './call-abort';
import type {
  ChatChunk,
  ChatRequest,
  ChatResponse,
  EmbeddingRequest,
  EmbeddingResponse,
} from './openai-types';

/** Per-call context. Aborting `signal` (client went away) aborts the upstream request. */
export interface CallContext {
  signal: AbortLike;
  /**
   * chat/embed: deadline for the whole call. stream: deadline until the response headers
   * (the stream then lives as long as data keeps coming).
   */
  timeoutMs?: number;
  /**
   * stream only: time to first token (bounds the wait for headers too) and, after the headers,
   * the longest silence between two pieces of data (idle timeout). Defaults to `timeoutMs`.
   */
  ttftTimeoutMs?: number;
}

/**
 * One upstream vendor. Every failure is thrown as a ProviderError; `stream` yields OpenAI
 * `chat.completion.chunk`s whose last one has `choices: []` and carries `usage`.
 */
export interface LlmAdapter {
  /** Registry id: `openai`, `anthropic`, `google`, `mock`, or a configured openai-compatible id. */
  readonly id: string;
  chat(req: ChatRequest, ctx: CallContext): Promise<ChatResponse>;
  stream(req: ChatRequest, ctx: CallContext): AsyncIterable<ChatChunk>;
  embed(req: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse>;
  /** Closes the keep-alive pool (shutdown). */
  close(): Promise<void>;
  /** The upstream pool's occupancy (adapters without a network pool, like `mock`, have none). */
  poolStats?(): GateStats;
}

/** Keep-alive pool settings, one pool per adapter. */
export interface PoolOptions {
  /** Max sockets per upstream origin, and exchanges in flight (default 1024). */
  connections?: number;
  /** Longest wait for a free socket before the attempt fails with `upstream_pool_exhausted` (default 1000 ms). */
  queueTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  /** Backstop when the call has no timeout of its own (default 120 s). */
  headersTimeoutMs?: number;
  /** Backstop between body chunks (default 300 s). */
  bodyTimeoutMs?: number;
  connectTimeoutMs?: number;
}
