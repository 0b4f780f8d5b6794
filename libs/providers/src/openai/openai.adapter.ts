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
import { incompleteStreamError, timeoutError } from '../provider-error';
import { withStreamUsage } from '../usage';
import * as mapper from './openai.mapper';
import type { OpenAiChatCompletion } from './openai.types';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

export interface OpenAiAdapterOptions {
  /** Registry id: `openai`, or the configured id of an openai-compatible upstream (`groq`, `ollama`…). */
  id?: string;
  /** Like the official SDK's base URL: the adapter appends `/chat/completions` and `/embeddings`. */
  baseUrl?: string;
  /** Optional for openai-compatible servers that need none (Ollama, vLLM, LM Studio). */
  apiKey?: string;
  /** Send `stream_options.include_usage` (default true; turn off for servers that reject it). */
  streamUsage?: boolean;
  headers?: Record<string, string>;
  pool?: PoolOptions;
}

/** OpenAI chat completions + embeddings; also every openai-compatible server. HTTP only. */
export class OpenAiAdapter implements LlmAdapter {
  readonly id: string;
  private readonly baseUrl: string;
  private readonly agent: UpstreamAgent;

  constructor(private readonly opts: OpenAiAdapterOptions = {}) {
    this.id = opts.id ?? 'openai';
    this.baseUrl = opts.baseUrl ?? OPENAI_DEFAULT_BASE_URL;
    this.agent = createAgent(opts.pool);
  }

  async chat(req: ChatRequest, ctx: CallContext): Promise<ChatResponse> {
    const body = mapper.toRequest(req, false);
    const answer = await fetchJsonOnce<OpenAiChatCompletion>(
      this.id,
      this.agent,
      ctx,
      this.request('/chat/completions', body),
      this.mapError,
    );
    return mapper.fromResponse(this.id, req, answer);
  }

  stream(req: ChatRequest, ctx: CallContext): AsyncIterable<ChatChunk> {
    return withStreamUsage(req, this.rawStream(req, ctx));
  }

  async embed(req: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse> {
    const answer = await fetchJsonOnce<EmbeddingResponse>(
      this.id,
      this.agent,
      ctx,
      this.request('/embeddings', mapper.toEmbeddingRequest(req)),
      this.mapError,
    );
    return mapper.fromEmbeddingResponse(this.id, req, answer);
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
      const body = mapper.toRequest(req, true, this.opts.streamUsage ?? true);
      const res = await call.send(
        this.request('/chat/completions', body, 'text/event-stream'),
        this.mapError,
      );
      call.disarm();
      for await (const events of call.events(res, ctx.ttftTimeoutMs ?? ctx.timeoutMs)) {
        for (const ev of events) {
          const step = mapper.fromStreamEvent(this.id, ev.data);
          if (step.kind === 'done') return;
          if (step.kind === 'chunk') yield step.chunk;
        }
      }
      throw incompleteStreamError(this.id);
    } finally {
      call.finish();
    }
  }

  private request(path: string, body: unknown, accept = 'application/json') {
    const headers: Record<string, string> = { accept, ...this.opts.headers };
    if (this.opts.apiKey) headers.authorization = `Bearer ${this.opts.apiKey}`;
    return { url: joinUrl(this.baseUrl, path), headers, body };
  }

  private readonly mapError = (status: number, headers: HeaderBag, text: string) =>
    mapper.toProviderError(this.id, status, headers, text);
}
