import type { CatalogModel } from '../routing/catalog';

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
}

export function modelEntry(m: CatalogModel): ModelEntry {
  return {
    id: m.id,
    object: 'model',
    created: MODEL_CREATED,
    owned_by: m.provider,
    ...(m.deprecated
      ? {
          deprecated: true as const,
          deprecation_date: m.deprecated.date,
          ...(m.deprecated.replacement ? { replacement: m.deprecated.replacement } : {}),
        }
      : {}),
  };
}

/** A route alias (`auto`, `best`, …) as a model object. */
export function aliasEntry(name: string): ModelEntry {
  return { id: name, object: 'model', created: MODEL_CREATED, owned_by: 'atp' };
}
