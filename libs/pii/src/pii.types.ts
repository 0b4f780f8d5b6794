/** The kinds of personal or secret data the library finds. */
export const PII_ENTITY_TYPES = [
  'EMAIL',
  'PHONE',
  'CREDIT_CARD',
  'US_SSN',
  'IBAN',
  'IP_ADDRESS',
  'SECRET',
  'DATE_OF_BIRTH',
] as const;

export type PiiEntityType = (typeof PII_ENTITY_TYPES)[number];

/**
 * One finding. `start`/`end` are offsets into the ORIGINAL string in UTF-16 code units (what
 * `String.prototype.slice` uses), end exclusive. `text` is only present when the caller asked
 * for it (`includeText`); it must never be logged.
 */
export interface PiiEntity {
  type: PiiEntityType;
  start: number;
  end: number;
  /** 0..1; validated structure plus context-word boosts or penalties. */
  score: number;
  text?: string;
}

export const PII_MODES = ['off', 'detect', 'redact', 'mask', 'hash', 'block'] as const;
export type PiiMode = (typeof PII_MODES)[number];

/** What `applyPii` actually did: `none` when the mode scanned and found nothing. */
export type PiiAction = 'off' | 'none' | 'detected' | 'redacted' | 'masked' | 'hashed' | 'blocked';

export interface DetectOptions {
  /** Only these types (default: all). */
  types?: readonly PiiEntityType[];
  /** Findings scoring below this are dropped (default 0.5). */
  minScore?: number;
  /**
   * Values that are never reported. A string matches the finding's exact text (case-insensitive
   * for EMAIL); a RegExp is tested against the finding's text (anchor it yourself; flags g/y are
   * ignored).
   */
  allowList?: ReadonlyArray<string | RegExp>;
  /** Copy the matched text into each entity (default false; never log it). */
  includeText?: boolean;
}

export interface ApplyOptions extends DetectOptions {
  /** The tenant's HMAC key; required by mode `hash` (at least 16 bytes). */
  hmacKey?: Buffer;
}

export interface PiiTypeCount {
  type: PiiEntityType;
  count: number;
}

export interface PiiResult {
  /** The transformed text; the input unchanged for off/detect/block. */
  text: string;
  /** Findings with offsets into the input text. */
  entities: PiiEntity[];
  action: PiiAction;
  /** True only for mode `block` with at least one finding: the caller answers 422. */
  blocked: boolean;
  summary: PiiTypeCount[];
  /** The PII API's response body as UTF-8 JSON, when PiiPool was asked for it (entities then empty). */
  response?: Uint8Array;
}

/** A finding inside a JSON value; `path` is an RFC 6901 JSON Pointer to the string holding it. */
export interface PiiJsonEntity extends PiiEntity {
  path: string;
}

export interface PiiJsonResult {
  /** A new value (the input is never mutated); the input itself for off/detect/block. */
  value: unknown;
  entities: PiiJsonEntity[];
  action: PiiAction;
  blocked: boolean;
  summary: PiiTypeCount[];
}
