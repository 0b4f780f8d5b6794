import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PROVIDERS, type ProviderDefinition } from '@app/providers';
import {
  BUILTIN_MODELS,
  BUILTIN_ROUTES,
  type CatalogModel,
  providersCatalog,
  type RouteDefinition,
} from './catalog';
import type { Catalog } from './resolve-model';

const ModelSchema = z.object({
  id: z.string().min(1),
  provider: z.string().min(1),
  upstream: z.string().min(1).optional(),
  kind: z.enum(['chat', 'embedding']).default('chat'),
  input_per_1m: z.number().min(0),
  output_per_1m: z.number().min(0).default(0),
  cache_read_per_1m: z.number().min(0).optional(),
  cache_write_per_1m: z.number().min(0).optional(),
  context_window: z.number().int().positive().default(128_000),
  max_output_tokens: z.number().int().min(0).default(4096),
  quality: z.number().min(0).max(1).default(0.5),
  /** The vendor's retirement date: listed as deprecated in /v1/models, still forwarded. */
  deprecation_date: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')
    .optional(),
  capabilities: z
    .object({
      tools: z.boolean().default(true),
      vision: z.boolean().default(false),
      json: z.boolean().default(true),
    })
    .default({ tools: true, vision: false, json: true }),
});

const RouteSchema = z.object({
  strategy: z.enum(['ordered', 'weighted', 'lowest-latency', 'cheapest', 'learned']).default('ordered'),
  candidates: z
    .array(
      z.union([
        z.string().min(1),
        z.object({ model: z.string().min(1), weight: z.number().min(0).optional() }),
      ]),
    )
    .min(1),
  quality_floor: z.number().min(0).max(1).optional(),
  cache: z.boolean().optional(),
});

const ProviderSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'must be lowercase letters, digits, _ or -'),
  type: z.literal('openai-compatible'),
  base_url: z.string().url(),
  api_key_env: z.string().optional(),
});

export const RoutingConfigSchema = z.object({
  providers: z.array(ProviderSchema).default([]),
  models: z.array(ModelSchema).default([]),
  routes: z.record(z.string().min(1), RouteSchema).default({}),
});

export type RoutingConfigFile = z.infer<typeof RoutingConfigSchema>;

export class RoutingConfigError extends Error {}

/** Parses and validates a routing YAML; every problem is listed with its path. */
export function parseRoutingConfig(text: string, source = 'ATP_ROUTING_CONFIG'): RoutingConfigFile {
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (err) {
    throw new RoutingConfigError(`${source} is not valid YAML: ${(err as Error).message}`);
  }
  const parsed = RoutingConfigSchema.safeParse(doc);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new RoutingConfigError(`${source} is invalid: ${problems.join('; ')}`);
  }
  return parsed.data;
}

export function readRoutingConfig(path: string): RoutingConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new RoutingConfigError(`ATP_ROUTING_CONFIG ${path} cannot be read`);
  }
  return parseRoutingConfig(text, `ATP_ROUTING_CONFIG ${path}`);
}

/**
 * The providers' catalog entries and the built-in routes, with a config file's models and routes
 * added or replacing by id/name.
 */
export function buildCatalog(
  file?: RoutingConfigFile,
  providers: readonly ProviderDefinition[] = PROVIDERS,
): Catalog {
  const builtin = providers === PROVIDERS ? BUILTIN_MODELS : providersCatalog(providers).models;
  const models = new Map<string, CatalogModel>(builtin.map((m) => [m.id, m]));
  const routes = new Map<string, RouteDefinition>(BUILTIN_ROUTES.map((r) => [r.name, r]));
  for (const m of file?.models ?? []) {
    models.set(m.id, {
      id: m.id,
      provider: m.provider,
      upstream: m.upstream ?? m.id,
      kind: m.kind,
      inputPer1M: m.input_per_1m,
      outputPer1M: m.output_per_1m,
      ...(m.cache_read_per_1m !== undefined ? { cacheReadPer1M: m.cache_read_per_1m } : {}),
      ...(m.cache_write_per_1m !== undefined ? { cacheWritePer1M: m.cache_write_per_1m } : {}),
      contextWindow: m.context_window,
      maxOutputTokens: m.max_output_tokens,
      quality: m.quality,
      capabilities: m.capabilities,
      ...(m.deprecation_date ? { deprecated: { date: m.deprecation_date } } : {}),
    });
  }
  for (const [name, r] of Object.entries(file?.routes ?? {})) {
    if (models.has(name)) throw new RoutingConfigError(`route "${name}" has the same name as a model`);
    const candidates = r.candidates.map((c) => (typeof c === 'string' ? { model: c } : c));
    for (const c of candidates) {
      if (!models.has(c.model))
        throw new RoutingConfigError(`route "${name}" names unknown model "${c.model}"`);
    }
    routes.set(name, {
      name,
      strategy: r.strategy,
      candidates,
      qualityFloor: r.quality_floor,
      cache: r.cache,
    });
  }
  return { models, routes };
}
