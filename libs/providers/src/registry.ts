import type { GateStats } from './connection-gate';
import type { ProviderCredentials } from './credentials';
import type { LlmAdapter, PoolOptions } from './llm-adapter';
import { openAiCompatibleAdapter, type OpenAiCompatibleConfig } from './openai';
import type { ProviderDefinition } from './provider-definition';
import { PROVIDERS } from './providers';

export type { OpenAiCompatibleConfig } from './openai';

export interface ProviderRegistryConfig {
  credentials: ProviderCredentials;
  openaiCompatible?: OpenAiCompatibleConfig[];
  /** Register the keyless providers (`mock`) even when keys are set (they always are when none is). */
  enableMock?: boolean;
  pool?: PoolOptions;
  /** The provider definitions to build from (default PROVIDERS). */
  providers?: readonly ProviderDefinition[];
}

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
 * Builds an adapter for every provider whose key is configured, then the openai-compatible
 * upstreams under their own ids. With none of those, the keyless providers (`mock`) are the
 * embedded default.
 */
export function createProviderRegistry(config: ProviderRegistryConfig): ProviderRegistry {
  const { credentials, pool } = config;
  const providers = config.providers ?? PROVIDERS;
  const registry = new ProviderRegistry();
  const add = (p: ProviderDefinition, adapter: LlmAdapter) => {
    if (adapter.id !== p.id) throw new Error(`provider "${p.id}" built an adapter with id "${adapter.id}"`);
    registry.register(adapter);
  };
  for (const p of providers) {
    const cred = p.credentials ? credentials.vendors[p.id] : undefined;
    if (p.credentials && cred?.apiKey)
      add(p, p.createAdapter({ apiKey: cred.apiKey, baseUrl: cred.baseUrl, pool }));
  }
  const reserved = new Set(providers.map((p) => p.id));
  for (const compat of config.openaiCompatible ?? []) {
    if (reserved.has(compat.id)) throw new Error(`openai-compatible provider id "${compat.id}" is reserved`);
    registry.register(openAiCompatibleAdapter(compat, pool));
  }
  if (config.enableMock || registry.size === 0) {
    for (const p of providers) if (!p.credentials) add(p, p.createAdapter({ pool }));
  }
  return registry;
}
