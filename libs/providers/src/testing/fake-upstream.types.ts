import type { IncomingHttpHeaders } from 'node:http';
import type { ProviderDefinition } from '../provider-definition';
import type { FakeFinish, FakeUsage } from './fake-wire.common';

/** A provider id whose definition has a fake upstream (`openai`, `anthropic`, `google`, …). */
export type FakeVendor = string;
export type FakeOperation = 'chat' | 'stream' | 'embed' | 'models';

/** A parsed JSON body, loosely typed so tests can reach into it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonValue = any;

/** What the fake upstream received (inspect it to check what an adapter sent). */
export interface RecordedRequest {
  vendor: FakeVendor;
  operation: FakeOperation;
  method: string;
  /** Path and query, e.g. `/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse`. */
  url: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (undefined when there was none or it was not JSON). */
  body: JsonValue;
  model: string;
  /** Client port of the TCP connection: equal ports on two requests = a reused keep-alive socket. */
  remotePort: number;
  /**
   * Set when the connection closed before the response was complete: the client aborted
   * (e.g. the gateway's caller went away), or an injected fault cut it.
   */
  closedEarly: boolean;
}

/**
 * A failure to inject. `afterChunks` = how many SSE events are written first (default 2), so
 * tests can check that what came before the failure was delivered.
 */
export type FakeFault =
  | { type: 'status'; status: number; retryAfter?: string; body?: unknown }
  | { type: 'stall-before-headers' }
  | { type: 'stall-mid-stream'; afterChunks?: number }
  | { type: 'reset' }
  | { type: 'reset-mid-stream'; afterChunks?: number }
  | { type: 'malformed-json'; afterChunks?: number }
  | { type: 'cut-stream'; afterChunks?: number }
  | { type: 'error-event'; afterChunks?: number };

export interface FakeBehaviour {
  /** Delay before the response headers. */
  latencyMs?: number;
  /** Delay between SSE events. */
  chunkDelayMs?: number;
  /** Reply text, streamed word by word. Default `Hello from the fake upstream.` */
  text?: string;
  /** Reply with these tool calls instead of text. */
  toolCalls?: { id?: string; name: string; arguments: Record<string, unknown> }[];
  finish?: FakeFinish;
  /**
   * Reported usage; `false` = the vendor reports none. Default: prompt ≈ body/4, completion = pieces.
   * `cacheRead` / `cacheWrite`: prompt-cache tokens on top of `prompt` (Anthropic reports both,
   * OpenAI reads only).
   */
  usage?: FakeUsage | false;
  /**
   * Anthropic: answer with a thinking block (this text, signed `sig-<message id>`) before the text
   * or tool calls, when the request enables thinking, as Claude does.
   */
  thinking?: string;
  /**
   * Answer as a schema-following model would (when `text` and `toolCalls` are not given): a call
   * of the forced tool, or under `auto` of the first tool unless the last message is a tool
   * result, with arguments valid against its JSON Schema; else, for a json_schema / json_object
   * output format, JSON text valid against the schema (see fake-schema.ts).
   */
  followSchemas?: boolean;
  /** Embedding size (default 8). */
  embeddingDims?: number;
  fault?: FakeFault;
}

export type BehaviourSource = FakeBehaviour | ((req: RecordedRequest) => FakeBehaviour | undefined);

export interface FakeUpstream {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Each served provider's base URL on this server, by provider id. */
  baseUrls: Readonly<Record<string, string>>;
  /** `baseUrls.openai` (`…/v1`). */
  openaiBaseUrl: string;
  /** `baseUrls.anthropic`. */
  anthropicBaseUrl: string;
  /** `baseUrls.google`. */
  googleBaseUrl: string;
  readonly requests: RecordedRequest[];
  /** Default behaviour for every request (a function may decide per request, e.g. by model). */
  setBehaviour(b: BehaviourSource): void;
  /** Behaviours for the next requests, first in first out; they win over the default. */
  enqueue(...b: FakeBehaviour[]): void;
  /** Forgets recorded requests, queued behaviours, the default behaviour, and restarts response ids. */
  reset(): void;
  close(): Promise<void>;
}

export interface FakeUpstreamOptions {
  behaviour?: BehaviourSource;
  /** The providers whose fakes this server speaks (default: every one in PROVIDERS that has one). */
  providers?: readonly ProviderDefinition[];
  /** Answer 401 when the vendor's auth header is missing (default true). */
  requireAuth?: boolean;
}
