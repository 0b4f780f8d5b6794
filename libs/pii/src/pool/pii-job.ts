import type { ApplyOptions, PiiJsonResult, PiiMode, PiiResult } from '../pii.types';

/** The nice value of a PII worker thread (see pii.worker.ts): the event loop comes first. */
export const WORKER_NICE = 10;

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
 * more (structured clone, re-serialization, garbage) than the scan saved it: callers that need
 * only counts ask for `none`; an HTTP answer asks for `response` (without the text) or
 * `response+text`: the whole body of POST /v1/pii/detect|redact (CONTRACT §7:
 * `{text?, mode, action, entities: [{type, start, end, score}], summary}`) as UTF-8 bytes, built
 * on the worker and moved (not copied) to the caller, which writes it as it is.
 */
export type EntitiesAs = 'objects' | 'none' | 'response' | 'response+text';

/** A job's answer: the result, or the error it threw (PiiError keeps its code across the thread). */
export interface PiiJobReply {
  id: number;
  result?: PiiResult | PiiJsonResult;
  error?: { name: string; code?: string; message: string };
}

/** Applies {@link EntitiesAs} to a result (on the worker, or inline for small jobs). */
export function shapeEntities<R extends PiiResult | PiiJsonResult>(
  result: R,
  as: EntitiesAs,
  mode: PiiMode,
): R {
  if (as === 'objects') return result;
  if (as === 'none') return { ...result, entities: [] };
  const text = as === 'response+text' && 'text' in result ? `"text":${JSON.stringify(result.text)},` : '';
  const entities = result.entities.map((e) => ({ type: e.type, start: e.start, end: e.end, score: e.score }));
  const summary = result.summary.map((s) => ({ type: s.type, count: s.count }));
  const body =
    `{${text}"mode":${JSON.stringify(mode)},"action":${JSON.stringify(result.action)},` +
    `"entities":${JSON.stringify(entities)},"summary":${JSON.stringify(summary)}}`;
  // TextEncoder gives the bytes their own ArrayBuffer, which postMessage can transfer. The text
  // is in those bytes already: sent back beside them it was one more megabyte to clone and collect
  // on the caller's loop per 1 MB request (GC pauses of ~30 ms under 4 such requests).
  const response = new TextEncoder().encode(body);
  return 'text' in result
    ? { ...result, text: '', entities: [], response }
    : { ...result, entities: [], response };
}
