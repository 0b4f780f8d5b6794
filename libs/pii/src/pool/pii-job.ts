import type { ApplyOptions, PiiJsonResult, PiiMode, PiiResult } from '../pii.types';

/** One unit of work sent to a PII worker thread (structured-cloned). */
export interface PiiJob {
  id: number;
  /** `text`: applyPii on a string; `json`: applyPiiToJson on any JSON value. */
  op: 'text' | 'json';
  input: unknown;
  mode: PiiMode;
  options: Omit<ApplyOptions, 'hmacKey'> & { hmacKey?: Uint8Array };
  entities: EntitiesAs;
}

/**
 * How the findings come back. Tens of thousands of entity objects cost the receiving event loop
 * more (structured clone, then garbage) than the scan saved it: callers that only need the
 * summary ask for `none`, an HTTP answer asks for `json` (one string, serialized on the worker).
 */
export type EntitiesAs = 'objects' | 'none' | 'json';

/** A job's answer: the result, or the error it threw (PiiError keeps its code across the thread). */
export interface PiiJobReply {
  id: number;
  result?: (PiiResult | PiiJsonResult) & { entitiesJson?: string };
  error?: { name: string; code?: string; message: string };
}

/** Applies {@link EntitiesAs} to a result (on the worker, or inline for small jobs). */
export function shapeEntities<R extends { entities: object[] }>(
  result: R,
  as: EntitiesAs,
): R & { entitiesJson?: string } {
  if (as === 'objects') return result;
  if (as === 'none') return { ...result, entities: [] };
  return { ...result, entities: [], entitiesJson: JSON.stringify(result.entities) };
}
