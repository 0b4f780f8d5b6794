import type { AbortLike } from '../call-abort';
import type { CallContext, LlmAdapter } from '../llm-adapter';
import type {
  ChatChunk,
  ChatRequest,
  ChatResponse,
  EmbeddingRequest,
  EmbeddingResponse,
  FinishReason,
} from '../openai-types';
import { abortedError } from '../provider-error';
import { estimateEmbeddingTokens } from '../usage';
import { mockEmbedding, mockEmbeddingInputs, mockResponse, splitText } from './mock.mapper';

export interface MockAdapterOptions {
  id?: string;
  /** Delay before the answer (and before the first chunk). Default 0. */
  latencyMs?: number;
  /** Content chunks per streamed reply. Default 8. */
  chunkCount?: number;
  /** Delay between streamed chunks. Default 0. */
  chunkDelayMs?: number;
  /** Embedding size when the request sets no `dimensions` (clamped to 8..1536). Default 1536. */
  embeddingDims?: number;
  now?: () => number;
}

/**
 * The embedded default provider: deterministic replies derived from the prompt, computed token
 * counts, configurable latency; it never touches the network.
 */
export class MockAdapter implements LlmAdapter {
  readonly id: string;
  private seq = 0;

  constructor(private readonly opts: MockAdapterOptions = {}) {
    this.id = opts.id ?? 'mock';
  }

  async chat(req: ChatRequest, ctx: CallContext): Promise<ChatResponse> {
    await this.sleep(this.opts.latencyMs ?? 0, ctx.signal);
    return mockResponse(req, this.meta());
  }

  async *stream(req: ChatRequest, ctx: CallContext): AsyncGenerator<ChatChunk> {
    await this.sleep(this.opts.latencyMs ?? 0, ctx.signal);
    const res = mockResponse(req, this.meta());
    const base = {
      id: res.id,
      object: 'chat.completion.chunk' as const,
      created: res.created,
      model: res.model,
    };
    // One choice after another (`n` > 1): each gets its role, content or tool calls, and finish.
    for (const { index, message, finish_reason } of res.choices) {
      const choice = (delta: ChatChunk['choices'][number]['delta'], finish: FinishReason | null = null) => ({
        ...base,
        choices: [{ index, delta, finish_reason: finish }],
      });
      yield choice({ role: 'assistant', content: '' });
      if (message.tool_calls) {
        yield choice({ tool_calls: message.tool_calls.map((c, i) => ({ index: i, ...c })) });
      } else {
        for (const [i, piece] of splitText(message.content ?? '', this.opts.chunkCount ?? 8).entries()) {
          if (i > 0) await this.sleep(this.opts.chunkDelayMs ?? 0, ctx.signal);
          yield choice({ content: piece });
        }
      }
      yield choice({}, finish_reason);
    }
    yield { ...base, choices: [], usage: res.usage };
  }

  async embed(req: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse> {
    await this.sleep(this.opts.latencyMs ?? 0, ctx.signal);
    const dims = Math.max(8, Math.min(1536, req.dimensions ?? this.opts.embeddingDims ?? 1536));
    const tokens = estimateEmbeddingTokens(req);
    return {
      object: 'list',
      data: mockEmbeddingInputs(req).map((text, index) => ({
        object: 'embedding',
        index,
        embedding: mockEmbedding(text, dims),
      })),
      model: req.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  }

  async close(): Promise<void> {}

  private meta() {
    const n = ++this.seq;
    const id = `chatcmpl-mock${n.toString(16).padStart(8, '0')}`;
    return {
      id,
      created: this.opts.now ? this.opts.now() : Math.floor(Date.now() / 1000),
      callId: `call_mock${n}`,
    };
  }

  private sleep(ms: number, signal: AbortLike): Promise<void> {
    if (signal.aborted) return Promise.reject(abortedError(this.id));
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortedError(this.id));
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
