import { createHmac } from 'node:crypto';
import { detectPii } from './detect';
import { PiiError } from './pii.errors';
import {
  PII_ENTITY_TYPES,
  type ApplyOptions,
  type PiiAction,
  type PiiEntity,
  type PiiEntityType,
  type PiiMode,
  type PiiResult,
  type PiiTypeCount,
} from './pii.types';

/** Hex characters of the HMAC kept in `<TYPE:…>` (64 bits: collisions need ~4e9 values). */
export const HASH_HEX_LENGTH = 16;
const MIN_HMAC_KEY_BYTES = 16;

/** Types whose mask keeps the last four digits/characters, as receipts and bank letters do. */
const KEEP_LAST_FOUR: ReadonlySet<PiiEntityType> = new Set(['CREDIT_CARD', 'PHONE', 'US_SSN', 'IBAN']);
const FULL_MASK = '********';

const ACTION: Readonly<Record<PiiMode, PiiAction>> = {
  off: 'off',
  detect: 'detected',
  redact: 'redacted',
  mask: 'masked',
  hash: 'hashed',
  block: 'blocked',
};

/**
 * Detects PII in `text` and applies `mode`:
 * - `off`: nothing is scanned; `detect`: text unchanged, findings returned;
 * - `redact`: `<EMAIL>`; `mask`: see {@link maskValue}; `hash`: `<EMAIL:3f9a1c2b7d4e5f60>`
 *   (HMAC-SHA256 under the tenant key over the normalised value: stable, not reversible);
 * - `block`: text unchanged and `blocked: true` when anything was found (the caller answers 422).
 * Entity offsets always refer to the input text.
 */
export function applyPii(text: string, mode: PiiMode, options: ApplyOptions = {}): PiiResult {
  assertPiiMode(mode);
  if (mode === 'off') return { text, entities: [], action: 'off', blocked: false, summary: [] };
  if (mode === 'hash') assertHmacKey(options.hmacKey);
  const entities = detectPii(text, options);
  const summary = summarize(entities);
  if (entities.length === 0) return { text, entities, action: 'none', blocked: false, summary };
  if (mode === 'detect' || mode === 'block') {
    return { text, entities, action: ACTION[mode], blocked: mode === 'block', summary };
  }
  return {
    text: replaceEntities(text, entities, mode, options.hmacKey),
    entities,
    action: ACTION[mode],
    blocked: false,
    summary,
  };
}

/** What a mode did once it found something (`none` is reported when it found nothing). */
export function actionFor(mode: PiiMode): PiiAction {
  return ACTION[mode];
}

/** Modes arrive from tenant settings and request bodies: an unknown one is a caller error. */
export function assertPiiMode(mode: string): asserts mode is PiiMode {
  if (!Object.prototype.hasOwnProperty.call(ACTION, mode)) {
    throw new PiiError('PII_UNKNOWN_MODE', `unknown PII mode: ${String(mode)}`);
  }
}

/** The replacement for one finding under `redact`, `mask` or `hash`. */
export function replacementFor(
  type: PiiEntityType,
  value: string,
  mode: 'redact' | 'mask' | 'hash',
  key?: Buffer,
): string {
  if (mode === 'redact') return `<${type}>`;
  if (mode === 'mask') return maskValue(type, value);
  assertHmacKey(key);
  const digest = createHmac('sha256', key)
    .update(`${type}\u0000${normalize(type, value)}`)
    .digest('hex');
  return `<${type}:${digest.slice(0, HASH_HEX_LENGTH)}>`;
}

/**
 * Cards, phones, SSNs and IBANs keep their last four digits (or characters, for IBANs) and their
 * separators: `**** **** **** 4242`, `+** ** **** 0958`, `***-**-6789`. Everything else (emails,
 * IPs, secrets, birth dates) becomes a fixed `********` that reveals neither content nor length.
 */
export function maskValue(type: PiiEntityType, value: string): string {
  if (!KEEP_LAST_FOUR.has(type)) return FULL_MASK;
  const maskable = type === 'IBAN' ? /[A-Za-z0-9]/ : /\d/;
  let keep = 4;
  const out: string[] = [];
  for (let i = value.length - 1; i >= 0; i--) {
    const ch = value[i];
    if (!maskable.test(ch)) out.push(ch);
    else if (keep > 0) {
      out.push(ch);
      keep--;
    } else out.push('*');
  }
  return out.reverse().join('');
}

/** Same person, same hash: formatting differences must not change the digest. */
function normalize(type: PiiEntityType, value: string): string {
  switch (type) {
    case 'EMAIL':
      return value.toLowerCase();
    case 'PHONE':
    case 'CREDIT_CARD':
    case 'US_SSN':
      return value.replace(/\D/g, '');
    case 'IBAN':
      return value.replace(/[\s-]/g, '').toUpperCase();
    case 'IP_ADDRESS':
      return value.toLowerCase();
    default:
      return value;
  }
}

function replaceEntities(
  text: string,
  entities: readonly PiiEntity[],
  mode: 'redact' | 'mask' | 'hash',
  key?: Buffer,
): string {
  const parts: string[] = [];
  let cursor = 0;
  for (const e of entities) {
    parts.push(text.slice(cursor, e.start), replacementFor(e.type, text.slice(e.start, e.end), mode, key));
    cursor = e.end;
  }
  parts.push(text.slice(cursor));
  return parts.join('');
}

/** Counts per type, in the fixed order of PII_ENTITY_TYPES (stable output for callers and tests). */
export function summarize(entities: readonly { type: PiiEntityType }[]): PiiTypeCount[] {
  const counts = new Map<PiiEntityType, number>();
  for (const e of entities) counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
  return PII_ENTITY_TYPES.filter((t) => counts.has(t)).map((type) => ({ type, count: counts.get(type)! }));
}

function assertHmacKey(key: Buffer | undefined): asserts key is Buffer {
  if (!key || key.length < MIN_HMAC_KEY_BYTES) {
    throw new PiiError(
      'PII_HMAC_KEY_REQUIRED',
      `mode "hash" needs a tenant HMAC key of at least ${MIN_HMAC_KEY_BYTES} bytes`,
    );
  }
}
