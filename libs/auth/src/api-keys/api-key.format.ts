import { createHash, randomBytes } from 'node:crypto';

/** Every API key starts with this, so a leaked key is recognisable (secret scanners, logs). */
export const API_KEY_PREFIX = 'atp_';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** 32 random bytes (256 bits) in base62 always fit in 43 characters. */
const RANDOM_BYTES = 32;
const BODY_LENGTH = 43;
const DISPLAY_CHARS = 8;
const API_KEY = new RegExp(`^${API_KEY_PREFIX}[0-9A-Za-z]{${BODY_LENGTH}}$`);

function base62(bytes: Buffer, length: number): string {
  let n = BigInt(`0x${bytes.toString('hex')}`);
  let out = '';
  while (n > 0n) {
    out = ALPHABET[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out.padStart(length, '0');
}

/**
 * A new API key: `atp_` + 256 random bits in base62 (no `-`/`_`, so a double-click selects it
 * whole). Shown once; only {@link hashApiKey} of it is stored.
 */
export function generateApiKey(random: (n: number) => Buffer = randomBytes): string {
  return API_KEY_PREFIX + base62(random(RANDOM_BYTES), BODY_LENGTH);
}

/** True for strings shaped like a key this service issues (checked before any lookup). */
export function isWellFormedApiKey(value: string): boolean {
  return API_KEY.test(value);
}

/**
 * What is stored and looked up: SHA-256 (hex) of the whole key. A salt or slow hash adds
 * nothing for 256-bit random secrets, and a fast hash keeps lookups cheap.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The short, non-secret part shown in listings so people can tell keys apart: `atp_` + 8 chars. */
export function displayPrefix(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + DISPLAY_CHARS);
}
