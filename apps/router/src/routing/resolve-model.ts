import { AtpError } from '@app/common';
import type { ProviderIds } from '@app/providers';
import type { CatalogModel, ModelKind, RouteDefinition, RouteStrategy } from './catalog';

export interface ResolvedRoute {
  /** The alias, or the model id the client asked for. */
  route: string;
  strategy: RouteStrategy;
  candidates: CatalogModel[];
  weights: number[];
  qualityFloor?: number;
  cache: boolean;
}

export interface Catalog {
  models: Map<string, CatalogModel>;
  routes: Map<string, RouteDefinition>;
}

/**
 * Turns the request's `model` into an ordered candidate list (CONTRACT §6): a route alias, a
 * catalog id, or `provider/upstream-model`. Only configured providers are candidates. With the
 * mock as the only provider (the embedded default) every alias and chat model resolves to it.
 */
export function resolveModel(
  name: string,
  kind: ModelKind,
  catalog: Catalog,
  providers: ProviderIds,
): ResolvedRoute {
  const mockOnly = providers.size === 1 && providers.has('mock');
  const mockModel = [...catalog.models.values()].find((m) => m.provider === 'mock' && m.kind === kind);
  const single = (model: CatalogModel): ResolvedRoute => ({
    route: name,
    strategy: 'ordered',
    candidates: [model],
    weights: [1],
    cache: false,
  });

  const route = catalog.routes.get(name);
  if (route) {
    if (mockOnly && mockModel) return { ...single(mockModel), route: name };
    const usable = route.candidates
      .map((c) => ({ model: catalog.models.get(c.model), weight: c.weight ?? 1 }))
      .filter(
        (c): c is { model: CatalogModel; weight: number } =>
          !!c.model && c.model.kind === kind && providers.has(c.model.provider),
      );
    if (!usable.length) {
      throw new AtpError(
        400,
        'route_unavailable',
        `Route "${name}" has no model whose provider is configured`,
        {
          param: 'model',
        },
      );
    }
    return {
      route: name,
      strategy: route.strategy,
      candidates: usable.map((u) => u.model),
      weights: usable.map((u) => u.weight),
      qualityFloor: route.qualityFloor,
      cache: route.cache ?? false,
    };
  }

  const model = catalog.models.get(name);
  if (model) {
    if (model.kind !== kind) {
      throw AtpError.badRequest(
        'model_wrong_kind',
        `Model "${name}" is ${model.kind === 'chat' ? 'a chat' : 'an embedding'} model`,
        'model',
      );
    }
    if (providers.has(model.provider)) return single(model);
    if (mockOnly && mockModel) return single(mockModel);
    throw new AtpError(
      400,
      'model_unavailable',
      `Model "${name}" needs provider "${model.provider}", which is not configured`,
      {
        param: 'model',
      },
    );
  }

  const slash = name.indexOf('/');
  if (slash > 0) {
    const provider = name.slice(0, slash);
    const upstream = name.slice(slash + 1);
    if (!providers.has(provider)) {
      throw new AtpError(400, 'model_unavailable', `Provider "${provider}" is not configured`, {
        param: 'model',
      });
    }
    const known = [...catalog.models.values()].find(
      (m) => m.provider === provider && m.upstream === upstream && m.kind === kind,
    );
    return single(known ?? adHocModel(provider, upstream, kind));
  }
  throw new AtpError(
    404,
    'model_not_found',
    `The model "${name}" does not exist or you do not have access to it`,
    {
      param: 'model',
    },
  );
}

/** A provider-qualified model the catalog does not list (e.g. a local Ollama model): no known price. */
function adHocModel(provider: string, upstream: string, kind: ModelKind): CatalogModel {
  return {
    id: `${provider}/${upstream}`,
    provider,
    upstream,
    kind,
    inputPer1M: 0,
    outputPer1M: 0,
    contextWindow: 128_000,
    maxOutputTokens: 4096,
    quality: 0.5,
    capabilities: { tools: true, vision: false, json: true },
  };
}
