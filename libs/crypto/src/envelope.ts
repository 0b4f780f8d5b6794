import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DecryptionError } from './crypto.errors';

/** Current ciphertext format. Bump it (and keep opening the old one) when the layout changes. */
export const CIPHERTEXT_VERSION = 1;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
export const KEY_BYTES = 32;
const MAX_KEY_ID_BYTES = 64;
const ALGORITHM = 'aes-256-gcm';

/** The parts of a sealed blob. The header (version, key id) is authenticated through the AAD. */
export interface SealedBlob {
  version: number;
  keyId: string;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/**
 * Layout: `version (1 byte) | key id length (1 byte) | key id (ASCII) | IV (12) | ciphertext | tag (16)`.
 */
export function encodeBlob(blob: SealedBlob): Buffer {
  const kid = Buffer.from(blob.keyId, 'utf8');
  if (!kid.length || kid.length > MAX_KEY_ID_BYTES) throw new RangeError('key id must be 1-64 bytes');
  return Buffer.concat([Buffer.from([blob.version, kid.length]), kid, blob.iv, blob.ciphertext, blob.tag]);
}

/** Splits a blob into its parts; throws {@link DecryptionError} when it cannot be one of ours. */
export function decodeBlob(data: Buffer): SealedBlob {
  if (!Buffer.isBuffer(data) || data.length < 2) throw DecryptionError.malformed('too short');
  const version = data[0];
  if (version !== CIPHERTEXT_VERSION) {
    throw new DecryptionError(
      'unsupported_ciphertext_version',
      `ciphertext format version ${version} is not supported`,
    );
  }
  const kidLength = data[1];
  const headerLength = 2 + kidLength;
  if (kidLength === 0 || data.length < headerLength + IV_BYTES + TAG_BYTES)
    throw DecryptionError.malformed('too short');
  return {
    version,
    keyId: data.subarray(2, headerLength).toString('utf8'),
    iv: data.subarray(headerLength, headerLength + IV_BYTES),
    ciphertext: data.subarray(headerLength + IV_BYTES, data.length - TAG_BYTES),
    tag: data.subarray(data.length - TAG_BYTES),
  };
}

/** The key id a blob was sealed with (for rotation jobs and key look-up), without opening it. */
export function blobKeyId(data: Buffer): string {
  return decodeBlob(data).keyId;
}

/**
 * Builds the additional authenticated data: a JSON array is unambiguous (no two different
 * contexts serialise alike), and it includes the header so version and key id are authenticated.
 */
export function buildAad(
  purpose: string,
  version: number,
  keyId: string,
  binding: readonly string[],
): Buffer {
  return Buffer.from(JSON.stringify(['atp', purpose, version, keyId, ...binding]), 'utf8');
}

/** AES-256-GCM with a fresh random 96-bit IV. */
export function seal(key: Buffer, keyId: string, plaintext: Buffer, aad: Buffer): Buffer {
  if (key.length !== KEY_BYTES) throw new RangeError('AES-256-GCM needs a 32-byte key');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return encodeBlob({ version: CIPHERTEXT_VERSION, keyId, iv, ciphertext, tag: cipher.getAuthTag() });
}

/** Opens a decoded blob; any authentication failure becomes `ciphertext_invalid`. */
export function open(key: Buffer, blob: SealedBlob, aad: Buffer): Buffer {
  try {
    const decipher = createDecipheriv(ALGORITHM, key, blob.iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(blob.tag);
    return Buffer.concat([decipher.update(blob.ciphertext), decipher.final()]);
  } catch {
    throw DecryptionError.altered();
  }
}
