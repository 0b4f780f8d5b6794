import type { PiiEntity, PiiEntityType } from '../pii.types';

/** A detector returns every candidate it validated, with its context-adjusted score. */
export type Detector = (text: string) => PiiEntity[];

export function entity(type: PiiEntityType, start: number, end: number, score: number): PiiEntity {
  return { type, start, end, score };
}

/**
 * Runs a global regex where the visitor decides where scanning resumes: a greedy match that was
 * trimmed (a card followed by another card) resumes at the accepted end, not the match end.
 * Detectors run synchronously, so sharing the precompiled regex is safe once lastIndex is reset.
 */
export function scan(re: RegExp, text: string, visit: (m: RegExpExecArray) => number): void {
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    re.lastIndex = Math.max(visit(m), m.index + 1);
  }
}

/**
 * `text.matchAll(re)` without its per-call regex clone (measurably slower on 1 KB prompts).
 * `re` must be global and not used by anything else while the loop runs.
 */
export function* execAll(re: RegExp, text: string): Generator<RegExpExecArray> {
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (m[0].length === 0) re.lastIndex++;
    yield m;
  }
}
