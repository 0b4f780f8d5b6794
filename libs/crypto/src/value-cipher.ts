import { DecryptionError } from './crypto.errors';
import type { DataKey } from './data-key';
import { buildAad, CIPHERTEXT_VERSION, decodeBlob, open, seal } from './envelope';

/** Where a value lives. All three are bound into the AAD: a blob copied to another row fails to open. */
export interface ValueContext {
  tenantId: string;
  namespace: string;
  key: string;
}

const VALUE_PURPOSE = 'value';

function valueAad(version: number, dataKeyId: string, ctx: ValueContext): Buffer {
  return buildAad(VALUE_PURPOSE, version, dataKeyId, [ctx.tenantId, ctx.namespace, ctx.key]);
}

/** Encrypts one value with the tenant's data key; the blob records the format version and data key id. */
export function encryptValue(dataKey: DataKey, ctx: ValueContext, plaintext: Buffer | string): Buffer {
  const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  return seal(dataKey.key, dataKey.id, data, valueAad(CIPHERTEXT_VERSION, dataKey.id, ctx));
}

/**
 * Decrypts a value. `dataKey` must be the one whose id the blob names (see `blobKeyId`).
 * @throws DecryptionError `unknown_key_id` for another data key, `ciphertext_invalid` when the
 *   blob belongs to another tenant/namespace/key or was altered.
 */
export function decryptValue(dataKey: DataKey, ctx: ValueContext, ciphertext: Buffer): Buffer {
  const blob = decodeBlob(ciphertext);
  if (blob.keyId !== dataKey.id) throw DecryptionError.unknownKeyId(blob.keyId, 'data key');
  return open(dataKey.key, blob, valueAad(blob.version, blob.keyId, ctx));
}
