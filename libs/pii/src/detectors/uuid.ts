import { execAll } from './detector';

// A UUID (8-4-4-4-12 hex digits). Its dash-separated groups can spell other identifiers by
// chance: about one random UUID in 4,500 holds an IBAN that passes mod-97
// ("…-ad03-4d1f-aa26-faad2a3c3071" is an Andorran one) and about one in 14,000 a Luhn-valid card
// number ("66b3c71a-5731-4573-9823-…", or "v-2558-49318675-8362…" across the prefix).
const UUID =
  /(?<![A-Za-z0-9])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![A-Za-z0-9])/g;

/**
 * Whether [start, end) overlaps a UUID in `text`. Asked only of a candidate a detector already
 * validated (rare), so prompts pay no extra pass: it reads the 36 characters either side, plus
 * one for the lookbehind and lookahead (a UUID overlapping the span starts after `start - 36`).
 */
export function overlapsUuid(text: string, start: number, end: number): boolean {
  const from = Math.max(0, start - 36);
  for (const m of execAll(UUID, text.slice(from, end + 37))) {
    if (from + m.index < end && start < from + m.index + m[0].length) return true;
  }
  return false;
}
