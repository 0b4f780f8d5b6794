import { resolveOverlaps } from '../detect';
import type { Detector } from './detector';

/**
 * The substrings a detector reports at or above `minScore`, after the same overlap resolution
 * detectPii applies (a detector may return overlapping candidates, e.g. a PEM block both with
 * and without its END line).
 */
export function found(detector: Detector, text: string, minScore = 0.5): string[] {
  return resolveOverlaps(detector(text).filter((e) => e.score >= minScore)).map((e) =>
    text.slice(e.start, e.end),
  );
}
