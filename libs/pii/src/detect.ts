import { detectCreditCards } from './detectors/card.detector';
import type { Detector } from './detectors/detector';
import { detectBirthDates } from './detectors/dob.detector';
import { detectEmails } from './detectors/email.detector';
import { detectIbans } from './detectors/iban.detector';
import { detectIpAddresses } from './detectors/ip.detector';
import { detectPhones } from './detectors/phone.detector';
import { detectSecrets } from './detectors/secret.detector';
import { detectSsns } from './detectors/ssn.detector';
import { overlapsUuid } from './detectors/uuid';
import { PiiError } from './pii.errors';
import { PII_ENTITY_TYPES, type DetectOptions, type PiiEntity, type PiiEntityType } from './pii.types';

/** Findings below this score are dropped unless the caller sets `minScore`. */
export const DEFAULT_MIN_SCORE = 0.5;

const DETECTORS: Readonly<Record<PiiEntityType, Detector>> = {
  EMAIL: detectEmails,
  PHONE: detectPhones,
  CREDIT_CARD: detectCreditCards,
  US_SSN: detectSsns,
  IBAN: detectIbans,
  IP_ADDRESS: detectIpAddresses,
  SECRET: detectSecrets,
  DATE_OF_BIRTH: detectBirthDates,
};

/**
 * Types made of digit groups, which the hex groups of a UUID can spell by chance (a card number
 * that passes Luhn, an IBAN that passes mod-97): a candidate of these types that overlaps a UUID
 * is part of an identifier, not PII. An email or a secret may contain a UUID and stays found.
 */
const NOT_INSIDE_UUID: ReadonlySet<PiiEntityType> = new Set<PiiEntityType>([
  'PHONE',
  'CREDIT_CARD',
  'US_SSN',
  'IBAN',
  'IP_ADDRESS',
  'DATE_OF_BIRTH',
]);

/**
 * Finds PII and secrets in `text`. The result is sorted by `start` and non-overlapping: when two
 * candidates overlap, the higher score wins, then the longer span, then the earlier one.
 */
export function detectPii(text: string, options: DetectOptions = {}): PiiEntity[] {
  if (text.length === 0) return [];
  const minScore = options.minScore ?? DEFAULT_MIN_SCORE;
  const candidates: PiiEntity[] = [];
  for (const type of options.types ?? PII_ENTITY_TYPES) {
    // `types` may come straight from a request body (POST /v1/pii/detect).
    if (!Object.prototype.hasOwnProperty.call(DETECTORS, type)) {
      throw new PiiError('PII_UNKNOWN_TYPE', `unknown PII entity type: ${String(type)}`);
    }
    for (const found of DETECTORS[type](text)) {
      if (found.score < minScore) continue;
      if (NOT_INSIDE_UUID.has(type) && overlapsUuid(text, found.start, found.end)) continue;
      candidates.push(found);
    }
  }
  const allowed = compileAllowList(options.allowList);
  // Allow-listing happens after overlap resolution on purpose: an allowed value must stay intact,
  // not have a weaker overlapping candidate (part of it) reported instead.
  const kept = resolveOverlaps(candidates).filter((e) => !allowed(e.type, text.slice(e.start, e.end)));
  return options.includeText ? kept.map((e) => ({ ...e, text: text.slice(e.start, e.end) })) : kept;
}

/** Greedy selection by (score desc, length desc, start asc); returns the winners sorted by start. */
export function resolveOverlaps(candidates: readonly PiiEntity[]): PiiEntity[] {
  if (candidates.length < 2) return [...candidates];
  const ranked = [...candidates].sort(
    (a, b) => b.score - a.score || b.end - b.start - (a.end - a.start) || a.start - b.start,
  );
  // `chosen` stays sorted by start and non-overlapping, so only the two neighbours of the
  // insertion point can overlap a candidate (binary search keeps large inputs O(n log n)).
  const chosen: PiiEntity[] = [];
  for (const c of ranked) {
    let lo = 0;
    let hi = chosen.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (chosen[mid].start < c.start) lo = mid + 1;
      else hi = mid;
    }
    const before = chosen[lo - 1];
    const after = chosen[lo];
    if ((before && before.end > c.start) || (after && after.start < c.end)) continue;
    chosen.splice(lo, 0, c);
  }
  return chosen;
}

type AllowCheck = (type: PiiEntityType, value: string) => boolean;

function compileAllowList(list: DetectOptions['allowList']): AllowCheck {
  if (!list || list.length === 0) return () => false;
  const exact = new Set<string>();
  const folded = new Set<string>();
  const patterns: RegExp[] = [];
  for (const item of list) {
    if (typeof item === 'string') {
      exact.add(item);
      folded.add(item.toLowerCase());
    } else {
      // A g or y flag would make test() stateful across calls.
      patterns.push(new RegExp(item.source, item.flags.replace(/[gy]/g, '')));
    }
  }
  return (type, value) =>
    exact.has(value) ||
    (type === 'EMAIL' && folded.has(value.toLowerCase())) ||
    patterns.some((p) => p.test(value));
}
