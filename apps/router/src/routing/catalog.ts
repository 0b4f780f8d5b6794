/**
 * The model catalog: what each model costs and can do. Prices are USD per 1M tokens, the
 * vendors' public list prices (standard tier, prompts ≤ 200k tokens) as of 2026-11; override
 * or extend them with ATP_ROUTING_CONFIG.
 */
export type ModelKind = 'chat' | 'embedding';

export interface CatalogModel {
  /** Catalog id clients send (`gpt-4o-mini`). */
  id: string;
  /** Registry id of the provider (`openai`, `anthropic`, `google`, `mock`, or an openai-compatible id). */
  provider: string;
  /** The vendor's own model name. */
  upstream: string;
  kind: ModelKind;
  inputPer1M: number;
  outputPer1M: number;
  contextWindow: number;
  /** Largest completion the model produces (used for worst-case cost). */
  maxOutputTokens: number;
  /** 0–1, a coarse quality rank for "cheapest meeting a quality floor". */
  quality: number;
  capabilities: { tools: boolean; vision: boolean; json: boolean };
}

export type RouteStrategy = 'ordered' | 'weighted' | 'lowest-latency' | 'cheapest' | 'learned';

export interface RouteDefinition {
  name: string;
  strategy: RouteStrategy;
  /** Catalog ids; for `weighted`, with weights. Candidates whose provider is not configured are dropped. */
  candidates: { model: string; weight?: number }[];
  /** `cheapest`/`learned`: candidates below this quality are not considered. */
  qualityFloor?: number;
  /** Cache responses of this route (exact match, per tenant). */
  cache?: boolean;
}

const chat = (
  id: string,
  provider: string,
  p: Pick<CatalogModel, 'inputPer1M' | 'outputPer1M' | 'contextWindow' | 'maxOutputTokens' | 'quality'> & {
    upstream?: string;
    vision?: boolean;
  },
): CatalogModel => ({
  id,
  provider,
  upstream: p.upstream ?? id,
  kind: 'chat',
  inputPer1M: p.inputPer1M,
  outputPer1M: p.outputPer1M,
  contextWindow: p.contextWindow,
  maxOutputTokens: p.maxOutputTokens,
  quality: p.quality,
  capabilities: { tools: true, vision: p.vision ?? true, json: true },
});

const embedding = (
  id: string,
  provider: string,
  inputPer1M: number,
  contextWindow: number,
): CatalogModel => ({
  id,
  provider,
  upstream: id,
  kind: 'embedding',
  inputPer1M,
  outputPer1M: 0,
  contextWindow,
  maxOutputTokens: 0,
  quality: 0.7,
  capabilities: { tools: false, vision: false, json: false },
});

export const BUILTIN_MODELS: CatalogModel[] = [
  chat('gpt-4o-mini', 'openai', {
    inputPer1M: 0.15,
    outputPer1M: 0.6,
    contextWindow: 128_000,
    maxOutputTokens: 16_384,
    quality: 0.7,
  }),
  chat('gpt-4o', 'openai', {
    inputPer1M: 2.5,
    outputPer1M: 10,
    contextWindow: 128_000,
    maxOutputTokens: 16_384,
    quality: 0.85,
  }),
  chat('gpt-4.1-mini', 'openai', {
    inputPer1M: 0.4,
    outputPer1M: 1.6,
    contextWindow: 1_047_576,
    maxOutputTokens: 32_768,
    quality: 0.75,
  }),
  embedding('text-embedding-3-small', 'openai', 0.02, 8191),
  embedding('text-embedding-3-large', 'openai', 0.13, 8191),
  chat('claude-3-5-haiku-latest', 'anthropic', {
    inputPer1M: 0.8,
    outputPer1M: 4,
    contextWindow: 200_000,
    maxOutputTokens: 8192,
    quality: 0.7,
  }),
  chat('claude-sonnet-4-5', 'anthropic', {
    inputPer1M: 3,
    outputPer1M: 15,
    contextWindow: 200_000,
    maxOutputTokens: 64_000,
    quality: 0.92,
  }),
  chat('gemini-2.0-flash', 'google', {
    inputPer1M: 0.1,
    outputPer1M: 0.4,
    contextWindow: 1_048_576,
    maxOutputTokens: 8192,
    quality: 0.68,
  }),
  chat('gemini-2.5-flash', 'google', {
    inputPer1M: 0.3,
    outputPer1M: 2.5,
    contextWindow: 1_048_576,
    maxOutputTokens: 65_536,
    quality: 0.78,
  }),
  chat('gemini-2.5-pro', 'google', {
    inputPer1M: 1.25,
    outputPer1M: 10,
    contextWindow: 1_048_576,
    maxOutputTokens: 65_536,
    quality: 0.9,
  }),
  embedding('text-embedding-004', 'google', 0, 2048),
  chat('mock-1', 'mock', {
    inputPer1M: 0,
    outputPer1M: 0,
    contextWindow: 128_000,
    maxOutputTokens: 4096,
    quality: 0.5,
  }),
  embedding('mock-embedding', 'mock', 0, 8191),
];

export const BUILTIN_ROUTES: RouteDefinition[] = [
  {
    name: 'auto',
    strategy: 'learned',
    qualityFloor: 0.65,
    candidates: [
      { model: 'gpt-4o-mini' },
      { model: 'claude-3-5-haiku-latest' },
      { model: 'gemini-2.0-flash' },
    ],
  },
  {
    name: 'fast',
    strategy: 'lowest-latency',
    candidates: [
      { model: 'gemini-2.0-flash' },
      { model: 'gpt-4o-mini' },
      { model: 'claude-3-5-haiku-latest' },
    ],
  },
  {
    name: 'cheap',
    strategy: 'cheapest',
    qualityFloor: 0.6,
    candidates: [
      { model: 'gemini-2.0-flash' },
      { model: 'gpt-4o-mini' },
      { model: 'gpt-4.1-mini' },
      { model: 'claude-3-5-haiku-latest' },
    ],
  },
  {
    name: 'best',
    strategy: 'ordered',
    candidates: [{ model: 'claude-sonnet-4-5' }, { model: 'gpt-4o' }, { model: 'gemini-2.5-pro' }],
  },
];

/** Worst-case and actual cost in USD. */
export function costUsd(model: CatalogModel, inputTokens: number, outputTokens: number): number {
  return (inputTokens * model.inputPer1M + outputTokens * model.outputPer1M) / 1_000_000;
}
