/** Codes a caller can switch on; the library never throws on message text alone. */
export type PiiErrorCode =
  'PII_HMAC_KEY_REQUIRED' | 'PII_JSON_TOO_DEEP' | 'PII_UNKNOWN_MODE' | 'PII_UNKNOWN_TYPE';

/**
 * Thrown for caller mistakes (a missing tenant key, an absurdly nested value). Kept free of Nest
 * so the library stays pure; the app maps `code` to its own error envelope.
 */
export class PiiError extends Error {
  readonly code: PiiErrorCode;

  constructor(code: PiiErrorCode, message: string) {
    super(message);
    this.name = 'PiiError';
    this.code = code;
  }
}
