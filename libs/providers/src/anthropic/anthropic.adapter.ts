import {
  createAgent,
  fetchJsonOnce,
  joinUrl,
  minTimeout,
  UpstreamCall,
  type HeaderBag,
  type UpstreamAgent,
} from '../http';
import type { GateStats } from '../connection-gate';
import type { CallContext, LlmAdapter, PoolOptions } from '../llm-adapter';
import type {
  ChatChunk,
  ChatRequest,
  ChatResponse,
  EmbeddingRequest,
  EmbeddingResponse,
} from '../openai-types';
import { incompleteStreamError, timeoutError, unsupportedError } from '../provider-error';
import { withStreamUsage } from '../usage';
import * as mapper from './anthropic.mapper';
import { createStreamState, fromStreamEvent } from './anthropic.stream-mapper';
import type { AnthropicMessage } from './anthropic.types';

export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';
export const ANTHROPIC_VERSION = '2023-06-01';

export interface AnthropicAdapterOptions {
  id?: string;
  apiKey: string;
  /** Like the official SDK's base URL: the adapter appends `/v1/messages`. */
  baseUrl?: string;
  /** max_tokens when the request sets none (Anthropic requires one). */
  defaultMaxTokens?: number;
  pool?: PoolOptions;
  /** Clock for `created` (seconds); injectable for tests. */
  now?: () => number;
}

/** Anthropic Messages API. HTTP only; translation lives in the mapper. Anthropic has no embeddings. */
export class AnthropicAdapter implements LlmAdapter {
  readonly id: string;
  private readonly agent: UpstreamAgent;
  private readonly url: string;

  constructor(private readonly opts: AnthropicAdapterOptions) {
    this.id = opts.id ?? 'anthropic';
    this.url = joinUrl(opts.baseUrl ?? ANTHROPIC_DEFAULT_BASE_URL, '/v1/messages');
    this.agent = createAgent(opts.pool);
  }

  async chat(req: ChatRequest, ctx: CallContext): Promise<ChatResponse> {
    const answer = await fetchJsonOnce<AnthropicMessage>(
      this.id,
      this.agent,
      ctx,
      this.request(req, false),
      this.mapError,
    );
    return mapper.fromResponse(this.id, answer, this.now());
  }

  stream(req: ChatRequest, ctx: CallContext): AsyncIterable<ChatChunk> {
    return withStreamUsage(req, this.rawStream(req, ctx));
  }

  embed(_req: EmbeddingRequest, _ctx: CallContext): Promise<EmbeddingResponse> {
    return Promise.reject(unsupportedError(this.id, 'embeddings'));
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  poolStats(): GateStats {
    return this.agent.gate.stats();
  }

  private async *rawStream(req: ChatRequest, ctx: CallContext): AsyncGenerator<ChatChunk> {
    const call = new UpstreamCall(this.id, this.agent, ctx);
    try {
      call.arm(minTimeout(ctx.timeoutMs, ctx.ttftTimeoutMs), () =>
        timeoutError(this.id, 'time-to-first-token'),
      );
      const res = await call.send(this.request(req, true), this.mapError);
      call.disarm();
      const state = createStreamState(this.id, req.model, this.now());
      for await (const events of call.events(res, ctx.ttftTimeoutMs ?? ctx.timeoutMs)) {
        for (const ev of events) {
          // for…of + yield: `yield*` of an array in an async generator costs twice as much.
          for (const chunk of fromStreamEvent(state, ev)) yield chunk;
          if (state.done) return;
        }
      }
      throw incompleteStreamError(this.id);
    } finally {
      call.finish();
    }
  }

  private request(req: ChatRequest, stream: boolean) {
    return {
      url: this.url,
      headers: {
        'x-api-key': this.opts.apiKey,
        'anthropic-version': ANTHROPIC_VERSION,
        accept: stream ? 'text/event-stream' : 'application/json',
      },
      body: mapper.toRequest(req, { stream, defaultMaxTokens: this.opts.defaultMaxTokens }),
    };
  }

  private now(): number {
    return this.opts.now ? this.opts.now() : Math.floor(Date.now() / 1000);
  }

  private readonly mapError = (status: number, headers: HeaderBag, text: string) =>
    mapper.toProviderError(this.id, status, headers, text);
}
