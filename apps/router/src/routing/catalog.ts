import { z } from 'zod';
import { PROVIDERS, type ProviderDefinition, type Usage } from '@app/providers';

/**
 * The model catalog: what each model costs and can do. The built-in entries come from the
 * providers: each provider folder's `<vendor>.catalog.json` (with its `as_of` date and sources);
 * prices are USD per 1M tokens, the vendors' list prices. Override or extend them with
 * ATP_ROUTING_CONFIG.
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
  /** Price of a prompt-cache hit, where the vendor prices one. */
  cacheReadPer1M?: number;
  /** Price of writing the prompt cache (Anthropic), where the vendor prices one. */
  cacheWritePer1M?: number;
  contextWindow: number;
  /** Largest completion the model produces (used for worst-case cost). */
  maxOutputTokens: number;
  /** 0–1, a coarse quality rank for "cheapest meeting a quality floor". */
  quality: number;
  capabilities: { tools: boolean; vision: boolean; json: boolean };
  /** Embedding models: the vector size the vendor returns by default. */
  dimensions?: number;
  /** The vendor retired (or retires) the model on `date` (YYYY-MM-DD); calls are still forwarded. */
  deprecated?: { date: string; replacement?: string };
}

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD');

/** One entry of a provider's `<vendor>.catalog.json`. */
export const CatalogEntrySchema = z
  .object({
    id: z.string().min(1),
    provider: z.string().min(1),
    upstream: z.string().min(1).optional(),
    kind: z.enum(['chat', 'embedding']),
    input: z.number().min(0),
    output: z.number().min(0).optional(),
    cache_read: z.number().min(0).optional(),
    cache_write: z.number().min(0).optional(),
    context_window: z.number().int().positive(),
    max_output_tokens: z.number().int().min(0).optional(),
    quality: z.number().min(0).max(1).optional(),
    vision: z.boolean().optional(),
    dimensions: z.number().int().positive().optional(),
    deprecated: isoDate.optional(),
    replacement: z.string().min(1).optional(),
    unverified: z.boolean().optional(),
  })
  .strict()
  .refine((e) => e.kind === 'embedding' || (e.output !== undefined && e.max_output_tokens !== undefined), {
    message: 'a chat model needs output and max_output_tokens',
  });

export const CatalogDataSchema = z.object({
  $comment: z.array(z.string()).optional(),
  as_of: isoDate,
  models: z.array(CatalogEntrySchema).min(1),
});

export type CatalogEntry = z.infer<typeof CatalogEntrySchema>;

/** A catalog data entry as the router uses it. */
export function toCatalogModel(e: CatalogEntry): CatalogModel {
  const chat = e.kind === 'chat';
  return {
    id: e.id,
    provider: e.provider,
    upstream: e.upstream ?? e.id,
    kind: e.kind,
    inputPer1M: e.input,
    outputPer1M: e.output ?? 0,
    ...(e.cache_read !== undefined ? { cacheReadPer1M: e.cache_read } : {}),
    ...(e.cache_write !== undefined ? { cacheWritePer1M: e.cache_write } : {}),
    contextWindow: e.context_window,
    maxOutputTokens: e.max_output_tokens ?? 0,
    quality: e.quality ?? (chat ? 0.5 : 0.7),
    capabilities: chat
      ? { tools: true, vision: e.vision ?? true, json: true }
      : { tools: false, vision: false, json: false },
    ...(e.dimensions !== undefined ? { dimensions: e.dimensions } : {}),
    ...(e.deprecated ? { deprecated: { date: e.deprecated, replacement: e.replacement } } : {}),
  };
}

/** Parses catalog data; a bad file is a programming error, reported with every offending path. */
export function parseCatalogData(
  data: unknown,
  source = 'catalog data',
): { asOf: string; models: CatalogModel[] } {
  const parsed = CatalogDataSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`${source} is invalid: ${problems.join('; ')}`);
  }
  const ids = new Set<string>();
  for (const m of parsed.data.models) {
    if (ids.has(m.id)) throw new Error(`${source} lists ${m.id} twice`);
    ids.add(m.id);
  }
  return { asOf: parsed.data.as_of, models: parsed.data.models.map(toCatalogModel) };
}

/**
 * The built-in catalog: every provider's entries, in list order. Each entry must name its own
 * provider, and an id may be listed once across all of them. `asOf` is the oldest `as_of`.
 */
export function providersCatalog(providers: readonly ProviderDefinition[]): {
  asOf: string;
  models: CatalogModel[];
} {
  const models: CatalogModel[] = [];
  const owner = new Map<string, string>();
  let asOf = '';
  for (const p of providers) {
    const source = `${p.id}.catalog.json`;
    const parsed = parseCatalogData(p.catalog, source);
    for (const m of parsed.models) {
      if (m.provider !== p.id) throw new Error(`${source} lists ${m.id} under provider "${m.provider}"`);
      const other = owner.get(m.id);
      if (other) throw new Error(`${m.id} is listed by both ${other}.catalog.json and ${source}`);
      owner.set(m.id, p.id);
      models.push(m);
    }
    if (!asOf || parsed.asOf < asOf) asOf = parsed.asOf;
  }
  return { asOf, models };
}

const builtin = providersCatalog(PROVIDERS);

/** The date the built-in prices were compiled (the oldest provider's). */
export const CATALOG_AS_OF = builtin.asOf;

export const BUILTIN_MODELS: CatalogModel[] = builtin.models;

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

/**
 * Built-in route aliases. Candidates are current (not deprecated) models that accept the usual
 * chat parameters: the GPT-5 and o-series reasoning models refuse `max_tokens` and `temperature`,
 * so they are left to clients that ask for them by name.
 */
export const BUILTIN_ROUTES: RouteDefinition[] = [
  {
    name: 'auto',
    strategy: 'learned',
    qualityFloor: 0.65,
    candidates: [{ model: 'gpt-4.1-mini' }, { model: 'claude-haiku-4-5' }, { model: 'gemini-2.5-flash' }],
  },
  {
    name: 'fast',
    strategy: 'lowest-latency',
    candidates: [
      { model: 'gemini-2.5-flash-lite' },
      { model: 'gpt-4.1-mini' },
      { model: 'claude-haiku-4-5' },
    ],
  },
  {
    name: 'cheap',
    strategy: 'cheapest',
    qualityFloor: 0.6,
    candidates: [
      { model: 'gemini-2.5-flash-lite' },
      { model: 'gpt-4.1-nano' },
      { model: 'gpt-4o-mini' },
      { model: 'gpt-4.1-mini' },
      { model: 'claude-haiku-4-5' },
    ],
  },
  {
    name: 'best',
    strategy: 'ordered',
    candidates: [{ model: 'claude-sonnet-4-5' }, { model: 'gpt-4.1' }, { model: 'gemini-2.5-pro' }],
  },
];

/**
 * What a call cost in USD: the one price function the ledger uses for every door. Of the prompt
 * tokens, prompt-cache reads (`prompt_tokens_details.cached_tokens`) are priced at the model's
 * cache-read price and prompt-cache writes (`cache_creation_input_tokens`, Anthropic) at its
 * cache-write price — each at the input price where the catalog has none — and the rest at the
 * input price; completion tokens at the output price.
 */
export function callCost(model: CatalogModel, usage: Usage): number {
  const read = usage.prompt_tokens_details?.cached_tokens ?? 0;
  const written = usage.cache_creation_input_tokens ?? 0;
  const plain = Math.max(0, usage.prompt_tokens - read - written);
  const perMillion =
    plain * model.inputPer1M +
    read * (model.cacheReadPer1M ?? model.inputPer1M) +
    written * (model.cacheWritePer1M ?? model.inputPer1M) +
    usage.completion_tokens * model.outputPer1M;
  return perMillion / 1_000_000;
}
