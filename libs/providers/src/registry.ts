import type { GateStats } from './connection-gate';
import { AnthropicAdapter } from './anthropic/anthropic.adapter';
import type { ProviderCredentials } from './credentials';
import { GoogleAdapter } from './google/google.adapter';
import type { LlmAdapter, PoolOptions } from './llm-adapter';
import { MockAdapter, type MockAdapterOptions } from './mock/mock.adapter';
import { OpenAiAdapter } from './openai/openai.adapter';

/** An openai-compatible upstream (Ollama, vLLM, LM Studio, Groq…), registered under its own id. */
export interface OpenAiCompatibleConfig {
  id: string;
  /** Base URL up to and including the version segment, e.g. `http://127.0.0.1:11434/v1`. */
  baseUrl: string;
  apiKey?: string;
  /** Send `stream_options.include_usage` (default true). */
  streamUsage?: boolean;
  headers?: Record<string, string>;
}

export interface ProviderRegistryConfig {
  credentials: ProviderCredentials;
  openaiCompatible?: OpenAiCompatibleConfig[];
  /** Register `mock` even when keys are set (it is always registered when none is). */
  enableMock?: boolean;
  mock?: MockAdapterOptions;
  pool?: PoolOptions;
  anthropicDefaultMaxTokens?: number;
}

const RESERVED = new Set(['openai', 'anthropic', 'google', 'mock']);

/** The configured provider ids, as routing reads them. */
export type ProviderIds = Pick<ReadonlySet<string>, 'has' | 'size'>;

/** Adapters by provider id. Routing picks an id; the registry only finds the adapter. */
export class ProviderRegistry {
  private readonly adapters = new Map<string, LlmAdapter>();

  constructor(adapters: LlmAdapter[] = []) {
    for (const a of adapters) this.register(a);
  }

  register(adapter: LlmAdapter): void {
    if (this.adapters.has(adapter.id)) throw new Error(`provider id "${adapter.id}" is registered twice`);
    this.adapters.set(adapter.id, adapter);
  }

  findAdapter(id: string): LlmAdapter | undefined {
    return this.adapters.get(id);
  }

  getAdapter(id: string): LlmAdapter {
    const adapter = this.adapters.get(id);
    if (!adapter) throw new Error(`provider "${id}" is not configured`);
    return adapter;
  }

  ids(): string[] {
    return [...this.adapters.keys()];
  }

  /** With `size`: the registered ids as a live read-only set (no copy: routing asks per request). */
  has(id: string): boolean {
    return this.adapters.has(id);
  }

  get size(): number {
    return this.adapters.size;
  }

  /** Each network adapter's pool occupancy, for the router's metrics. */
  poolStats(): { provider: string; stats: GateStats }[] {
    const out: { provider: string; stats: GateStats }[] = [];
    for (const [provider, adapter] of this.adapters) {
      if (adapter.poolStats) out.push({ provider, stats: adapter.poolStats() });
    }
    return out;
  }

  /** Closes every keep-alive pool (shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.adapters.values()].map((a) => a.close()));
  }
}

/**
 * Builds the adapters that have credentials. With no vendor key and no openai-compatible
 * upstream, `mock` is the embedded default.
 */
export function createProviderRegistry(config: ProviderRegistryConfig): ProviderRegistry {
  const { credentials: c, pool } = config;
  const registry = new ProviderRegistry();
  if (c.openai.apiKey)
    registry.register(new OpenAiAdapter({ baseUrl: c.openai.baseUrl, apiKey: c.openai.apiKey, pool }));
  if (c.anthropic.apiKey) {
    registry.register(
      new AnthropicAdapter({
        baseUrl: c.anthropic.baseUrl,
        apiKey: c.anthropic.apiKey,
        defaultMaxTokens: config.anthropicDefaultMaxTokens,
        pool,
      }),
    );
  }
  if (c.google.apiKey)
    registry.register(new GoogleAdapter({ baseUrl: c.google.baseUrl, apiKey: c.google.apiKey, pool }));
  for (const compat of config.openaiCompatible ?? []) {
    if (RESERVED.has(compat.id)) throw new Error(`openai-compatible provider id "${compat.id}" is reserved`);
    registry.register(new OpenAiAdapter({ ...compat, pool }));
  }
  if (config.enableMock || registry.ids().length === 0) registry.register(new MockAdapter(config.mock));
  return registry;
}
