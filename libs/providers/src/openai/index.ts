import type { PoolOptions } from '../llm-adapter';
import type { KeyedProviderDefinition } from '../provider-definition';
import { OPENAI_DEFAULT_BASE_URL, OpenAiAdapter } from './openai.adapter';
import catalog from './openai.catalog.json';

/** OpenAI: chat completions and embeddings (its adapter also serves every openai-compatible upstream). */
export const openai: KeyedProviderDefinition = {
  id: 'openai',
  credentials: {
    apiKey: 'OPENAI_API_KEY',
    baseUrl: 'OPENAI_BASE_URL',
    defaultBaseUrl: OPENAI_DEFAULT_BASE_URL,
  },
  catalog,
  createAdapter: ({ apiKey, baseUrl, pool }) => new OpenAiAdapter({ apiKey, baseUrl, pool }),
  fakeUpstream: () => import('./testing').then((m) => m.openaiFakeWire),
};

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

export function openAiCompatibleAdapter(config: OpenAiCompatibleConfig, pool?: PoolOptions): OpenAiAdapter {
  return new OpenAiAdapter({ ...config, pool });
}
