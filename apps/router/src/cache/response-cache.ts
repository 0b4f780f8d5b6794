import { createHash } from 'node:crypto';
import type { KvStore } from '@app/cache';
import type {
  ChatChunk,
  ChatRequest,
  ChatResponse,
  FinishReason,
  ThinkingBlock,
  ThinkingDelta,
  ToolCall,
} from '@app/providers';

/** What a request asks of the cache (`x-atp-cache` request header). */
export type CacheDirective = 'use' | 'bypass' | 'refresh';
/** What the cache did (`x-atp-cache` response header). */
export type CacheResult = 'hit' | 'miss' | 'bypass';

/** Fields that do not change the answer; everything else is part of the key. */
const IGNORED = new Set(['stream', 'stream_options', 'user']);

/** Deterministic JSON (sorted keys) so equal requests hash equally. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** The cache key of a request: per tenant, per resolved model, over everything that shapes the answer. */
export function cacheKey(tenantId: string, modelId: string, req: ChatRequest): string {
  const material: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(req)) if (!IGNORED.has(k) && k !== 'model') material[k] = v;
  const digest = createHash('sha256')
    .update(`${modelId}\n${canonical(material)}`)
    .digest('base64url');
  return `rc:${tenantId}:${digest}`;
}

export function parseDirective(header: string | string[] | undefined): CacheDirective {
  const v = (Array.isArray(header) ? header[0] : header)?.trim().toLowerCase();
  return v === 'bypass' || v === 'refresh' ? v : 'use';
}

/**
 * Exact-match response cache in the KvStore (Redis: shared by replicas), per tenant. Only
 * complete, successful answers are stored; a cached answer can be replayed as a stream.
 */
export class ResponseCache {
  constructor(private readonly kv: KvStore) {}

  async get(key: string): Promise<ChatResponse | null> {
    try {
      const raw = await this.kv.get(key);
      return raw ? (JSON.parse(raw) as ChatResponse) : null;
    } catch {
      return null; // a cache outage is a miss, never a failed request
    }
  }

  async set(key: string, response: ChatResponse, ttlSeconds: number): Promise<void> {
    const finish = response.choices[0]?.finish_reason;
    if (finish !== 'stop' && finish !== 'tool_calls') return; // truncated or filtered answers are not reused
    await this.kv.set(key, JSON.stringify(response), ttlSeconds * 1000).catch(() => undefined);
  }
}

/** Rebuilds a complete `chat.completion` from streamed chunks (to store a streamed answer). */
export class ChunkAssembler {
  private content = '';
  private readonly calls: ToolCall[] = [];
  private readonly thinking: ThinkingBlock[] = [];
  private finish: FinishReason | null = null;
  private first: ChatChunk | null = null;

  add(chunk: ChatChunk): void {
    this.first ??= chunk;
    for (const c of chunk.choices) {
      if (c.index !== 0) continue;
      this.content += c.delta.content ?? '';
      for (const t of c.delta.tool_calls ?? []) {
        const call = (this.calls[t.index] ??= {
          id: '',
          type: 'function',
          function: { name: '', arguments: '' },
        });
        if (t.id) call.id = t.id;
        if (t.function?.name) call.function.name += t.function.name;
        if (t.function?.arguments) call.function.arguments += t.function.arguments;
      }
      for (const t of c.delta.thinking_blocks ?? []) this.addThinking(t);
      if (c.finish_reason) this.finish = c.finish_reason;
    }
  }

  private addThinking(t: ThinkingDelta): void {
    const block = (this.thinking[t.index] ??=
      t.type === 'redacted_thinking'
        ? { type: 'redacted_thinking', data: '' }
        : { type: 'thinking', thinking: '' });
    if (block.type === 'redacted_thinking') block.data += t.data ?? '';
    else {
      block.thinking += t.thinking ?? '';
      if (t.signature) block.signature = (block.signature ?? '') + t.signature;
    }
  }

  build(usage: ChatResponse['usage']): ChatResponse | null {
    if (!this.first || !this.finish) return null;
    const calls = this.calls.filter(Boolean);
    const thinking = this.thinking.filter(Boolean);
    return {
      id: this.first.id,
      object: 'chat.completion',
      created: this.first.created,
      model: this.first.model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: calls.length ? this.content || null : this.content,
            ...(calls.length ? { tool_calls: calls } : {}),
            ...(thinking.length ? { thinking_blocks: thinking } : {}),
          },
          finish_reason: this.finish,
        },
      ],
      usage,
    };
  }
}

/** A cached answer as the chunks a stream would have carried (the last one with usage). */
export function replayAsChunks(res: ChatResponse): ChatChunk[] {
  const base = {
    id: res.id,
    object: 'chat.completion.chunk' as const,
    created: res.created,
    model: res.model,
  };
  const choice = res.choices[0];
  const chunks: ChatChunk[] = [
    { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
  ];
  if (choice.message.thinking_blocks?.length) {
    const thinking_blocks = choice.message.thinking_blocks.map((b, index) => ({ index, ...b }));
    chunks.push({ ...base, choices: [{ index: 0, delta: { thinking_blocks }, finish_reason: null }] });
  }
  if (choice.message.content) {
    chunks.push({
      ...base,
      choices: [{ index: 0, delta: { content: choice.message.content }, finish_reason: null }],
    });
  }
  if (choice.message.tool_calls?.length) {
    const tool_calls = choice.message.tool_calls.map((c, index) => ({ index, ...c }));
    chunks.push({ ...base, choices: [{ index: 0, delta: { tool_calls }, finish_reason: null }] });
  }
  chunks.push({ ...base, choices: [{ index: 0, delta: {}, finish_reason: choice.finish_reason }] });
  chunks.push({ ...base, choices: [], usage: res.usage });
  return chunks;
}
