import { randomBytes } from 'node:crypto';
import type { KeyRingEntry } from '@app/config';
import { DecryptionError, KeyRingError } from './crypto.errors';
import { buildAad, decodeBlob, KEY_BYTES, open, seal } from './envelope';

/** A tenant's plaintext data key. Lives in memory only; what is stored is {@link wrapDataKey}'s output. */
export interface DataKey {
  tenantId: string;
  /** Stored in every value ciphertext, so a tenant may hold several data keys over time. */
  id: string;
  key: Buffer;
}

/** Identifies a wrapped data key; bound into the wrapping AAD so a wrapped key moved to another row fails. */
export interface DataKeyRef {
  tenantId: string;
  dataKeyId: string;
}

const WRAP_PURPOSE = 'dek';

/** A fresh random 256-bit data key with a random id. */
export function generateDataKey(
  tenantId: string,
  id = `dk_${randomBytes(9).toString('base64url')}`,
): DataKey {
  return { tenantId, id, key: randomBytes(KEY_BYTES) };
}

function primaryOf(ring: readonly KeyRingEntry[]): KeyRingEntry {
  const primary = ring[0];
  if (!primary) throw new KeyRingError();
  return primary;
}

function wrapAad(kekId: string, ref: DataKeyRef): Buffer {
  return buildAad(WRAP_PURPOSE, 1, kekId, [ref.tenantId, ref.dataKeyId]);
}

/** Wraps (encrypts) a data key under the key ring's primary key. */
export function wrapDataKey(ring: readonly KeyRingEntry[], dataKey: DataKey): Buffer {
  const kek = primaryOf(ring);
  return seal(
    kek.key,
    kek.id,
    dataKey.key,
    wrapAad(kek.id, { tenantId: dataKey.tenantId, dataKeyId: dataKey.id }),
  );
}

/**
 * Unwraps a stored data key with whichever ring key wrapped it (the primary or an older one).
 * @throws DecryptionError `unknown_key_id` when that key left the ring, `ciphertext_invalid` when
 *   the wrapped key belongs to another tenant/key id or was altered.
 */
export function unwrapDataKey(ring: readonly KeyRingEntry[], ref: DataKeyRef, wrapped: Buffer): DataKey {
  const blob = decodeBlob(wrapped);
  const kek = ring.find((k) => k.id === blob.keyId);
  if (!kek) throw DecryptionError.unknownKeyId(blob.keyId, 'ENCRYPTION_KEY key id');
  const key = open(kek.key, blob, wrapAad(blob.keyId, ref));
  if (key.length !== KEY_BYTES) throw DecryptionError.malformed('wrapped data key has the wrong length');
  return { tenantId: ref.tenantId, id: ref.dataKeyId, key };
}

export interface RewrapResult {
  wrapped: Buffer;
  /** Id of the ring key that now wraps the data key (the primary). */
  kekId: string;
  /** False when it was already wrapped by the primary (then `wrapped` is the input, unchanged). */
  changed: boolean;
}

/**
 * Re-wraps a data key under the current primary ring key, for `keys rotate-kek`. Values are
 * untouched: they are encrypted with the data key, which does not change.
 */
export function rewrapDataKey(ring: readonly KeyRingEntry[], ref: DataKeyRef, wrapped: Buffer): RewrapResult {
  const primary = primaryOf(ring);
  if (decodeBlob(wrapped).keyId === primary.id) {
    // Still authenticate it: a rotation job must not bless a corrupt row.
    unwrapDataKey(ring, ref, wrapped);
    return { wrapped, kekId: primary.id, changed: false };
  }
  const dataKey = unwrapDataKey(ring, ref, wrapped);
  return { wrapped: wrapDataKey(ring, dataKey), kekId: primary.id, changed: true };
}
