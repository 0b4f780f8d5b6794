import type { ApplyOptions, PiiJsonResult, PiiMode, PiiResult } from '../pii.types';

/** One unit of work sent to a PII worker thread (structured-cloned). */
export interface PiiJob {
  id: number;
  /** `text`: applyPii on a string; `json`: applyPiiToJson on any JSON value. */
  op: 'text' | 'json';
  input: unknown;
  mode: PiiMode;
  options: Omit<ApplyOptions, 'hmacKey'> & { hmacKey?: Uint8Array };
}

/** A job's answer: the result, or the error it threw (PiiError keeps its code across the thread). */
export interface PiiJobReply {
  id: number;
  result?: PiiResult | PiiJsonResult;
  error?: { name: string; code?: string; message: string };
}
