import {
  createAgent,
  fetchJsonOnce,
  joinUrl,
  minTimeout,
  newCompletionId,
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
import { incompleteStreamError, invalidResponseError, timeoutError } from '../provider-error';
import { estimateEmbeddingTokens, withStreamUsage } from '../usage';
import * as mapper from './google.mapper';
import { createStreamState, fromStreamEvent, isFinished, usageChunk } from './google.stream-mapper';
import type { GeminiBatchEmbedResponse, GeminiEmbedContentResponse, GeminiResponse } from './google.types';

export const GOOGLE_DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';

export interface GoogleAdapterOptions {
  id?: string;
  apiKey: string;
  /** Like the official SDK's base URL: the adapter appends `/v1beta/models/{model}:…`. */
  baseUrl?: string;
  pool?: PoolOptions;
  now?: () => number;
}

/** Gemini API: generateContent, streamGenerateContent?alt=sse, embedContent / batchEmbedContents. */
export class GoogleAdapter implements LlmAdapter {
  readonly id: string;
  private readonly agent: UpstreamAgent;
  private readonly baseUrl: string;

  constructor(private readonly opts: GoogleAdapterOptions) {
    this.id = opts.id ?? 'google';
    this.baseUrl = opts.baseUrl ?? GOOGLE_DEFAULT_BASE_URL;
    this.agent = createAgent(opts.pool);
  }

  async chat(req: ChatRequest, ctx: CallContext): Promise<ChatResponse> {
    const answer = await fetchJsonOnce<GeminiResponse>(
      this.id,
      this.agent,
      ctx,
      this.request(req.model, ':generateContent', mapper.toRequest(req)),
      this.mapError,
    );
    return mapper.fromResponse(this.id, answer, this.meta(req.model));
  }

  stream(req: ChatRequest, ctx: CallContext): AsyncIterable<ChatChunk> {
    return withStreamUsage(req, this.rawStream(req, ctx));
  }

  async embed(req: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse> {
    const requests = mapper.toEmbedRequests(this.id, req);
    let vectors: number[][];
    if (requests.length === 1) {
      const answer = await fetchJsonOnce<GeminiEmbedContentResponse>(
        this.id,
        this.agent,
        ctx,
        this.request(req.model, ':embedContent', requests[0]),
        this.mapError,
      );
      vectors = [answer.embedding?.values];
    } else {
      const body = { requests: requests.map((r) => ({ model: `models/${req.model}`, ...r })) };
      const answer = await fetchJsonOnce<GeminiBatchEmbedResponse>(
        this.id,
        this.agent,
        ctx,
        this.request(req.model, ':batchEmbedContents', body),
        this.mapError,
      );
      vectors = (answer.embeddings ?? []).map((e) => e?.values);
    }
    if (vectors.length !== requests.length || vectors.some((v) => !Array.isArray(v))) {
      throw invalidResponseError(this.id, 'embedding values missing');
    }
    const tokens = estimateEmbeddingTokens(req);
    return {
      object: 'list',
      data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })),
      model: req.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens, estimated: true },
    };
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
      const path = ':streamGenerateContent?alt=sse';
      const res = await call.send(
        this.request(req.model, path, mapper.toRequest(req), 'text/event-stream'),
        this.mapError,
      );
      call.disarm();
      const state = createStreamState(this.id, this.meta(req.model));
      for await (const events of call.events(res, ctx.ttftTimeoutMs ?? ctx.timeoutMs)) {
        // for…of + yield: `yield*` of an array in an async generator costs twice as much.
        for (const ev of events) for (const chunk of fromStreamEvent(state, ev)) yield chunk;
      }
      if (!isFinished(state)) throw incompleteStreamError(this.id);
      const last = usageChunk(state);
      if (last) yield last;
    } finally {
      call.finish();
    }
  }

  private request(model: string, method: string, body: unknown, accept = 'application/json') {
    const url = joinUrl(this.baseUrl, `/v1beta/models/${encodeURIComponent(model)}${method}`);
    return { url, headers: { 'x-goog-api-key': this.opts.apiKey, accept }, body };
  }

  private meta(model: string): mapper.ResponseMeta {
    const id = newCompletionId();
    return {
      id,
      model,
      created: this.opts.now ? this.opts.now() : Math.floor(Date.now() / 1000),
      callId: (i) => `call_${id.slice(9, 21)}_${i}`,
    };
  }

  private readonly mapError = (status: number, headers: HeaderBag, text: string) =>
    mapper.toProviderError(this.id, status, headers, text);
}
