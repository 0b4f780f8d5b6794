import { AtpError } from '@app/common';

/** Stable codes of every error libs/crypto throws (never match on the message). */
export type CryptoErrorCode =
  | 'ciphertext_invalid'
  | 'unknown_key_id'
  | 'unsupported_ciphertext_version'
  | 'data_key_destroyed'
  | 'key_ring_empty';

/** Base class: a typed {@link AtpError} with a crypto-specific stable `code`. */
export class CryptoError extends AtpError {
  declare readonly code: CryptoErrorCode;

  constructor(status: number, code: CryptoErrorCode, message: string, cause?: unknown) {
    super(status, code, message, { cause });
    this.name = new.target.name;
  }
}

/**
 * A blob that cannot be opened. The stored data is at fault (or was moved or altered), not the
 * caller's input, hence 500: it is worth an alert.
 */
export class DecryptionError extends CryptoError {
  constructor(
    code: Extract<
      CryptoErrorCode,
      'ciphertext_invalid' | 'unknown_key_id' | 'unsupported_ciphertext_version'
    >,
    message: string,
    cause?: unknown,
  ) {
    super(500, code, message, cause);
  }

  static altered(): DecryptionError {
    return new DecryptionError(
      'ciphertext_invalid',
      'ciphertext does not belong to this tenant/namespace/key or was altered',
    );
  }

  static malformed(detail: string): DecryptionError {
    return new DecryptionError('ciphertext_invalid', `ciphertext is malformed: ${detail}`);
  }

  static unknownKeyId(keyId: string, what: string): DecryptionError {
    return new DecryptionError(
      'unknown_key_id',
      `ciphertext was sealed with ${what} "${keyId}", which is not available (removed from the key ring or destroyed)`,
    );
  }
}

/** The tenant's data key was destroyed (crypto-shredding): its memory is unreadable for good. */
export class DataKeyDestroyedError extends CryptoError {
  constructor() {
    super(404, 'data_key_destroyed', "this tenant's data was erased: its data key no longer exists");
  }
}

/** No key-encryption key is configured (ENCRYPTION_KEY missing on an app that needs it). */
export class KeyRingError extends CryptoError {
  constructor() {
    super(503, 'key_ring_empty', 'no encryption key is configured: set ENCRYPTION_KEY');
  }
}
