import type { Door } from '../../pipeline/call';
import type { CatalogModel, ModelKind } from '../../routing/catalog';

/** 2025-01-01, a fixed timestamp: the catalog has no creation dates. */
export const MODEL_CREATED = 1_735_689_600;

/** An OpenAI `model` object, with ATP's deprecation fields when the vendor retires the model. */
export interface ModelEntry {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  /** Present (true) only for models their vendor has retired or announced to retire. */
  deprecated?: true;
  /** The vendor's retirement date, YYYY-MM-DD. */
  deprecation_date?: string;
  /** The catalog id the vendor names as successor, when there is one. */
  replacement?: string;
  /**
   * ATP: the front doors this model answers through. Every door translates to the one canonical
   * call, so a chat model is reachable through all three chat doors whatever its vendor.
   */
  doors: Door[];
}

/** chat: POST /v1/chat/completions, responses: POST /v1/responses, messages: POST /v1/messages. */
const CHAT_DOORS: Door[] = ['chat', 'responses', 'messages'];

/** The doors that reach a model of this kind. */
export function doorsFor(kind: ModelKind): Door[] {
  return kind === 'embedding' ? ['embeddings'] : [...CHAT_DOORS];
}

export function modelEntry(m: CatalogModel): ModelEntry {
  return {
    id: m.id,
    object: 'model',
    created: MODEL_CREATED,
    owned_by: m.provider,
    doors: doorsFor(m.kind),
    ...(m.deprecated
      ? {
          deprecated: true as const,
          deprecation_date: m.deprecated.date,
          ...(m.deprecated.replacement ? { replacement: m.deprecated.replacement } : {}),
        }
      : {}),
  };
}

/** A route alias (`auto`, `best`, …) as a model object; `kind` is its candidates'. */
export function aliasEntry(name: string, kind: ModelKind): ModelEntry {
  return { id: name, object: 'model', created: MODEL_CREATED, owned_by: 'atp', doors: doorsFor(kind) };
}
