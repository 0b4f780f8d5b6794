import { createHmac, hkdfSync } from 'node:crypto';
import type { DataKey } from './data-key';

/**
 * Sub-keys derived from a tenant's data key with HKDF-SHA-256 (salt = tenant id, a distinct
 * `info` per use). Derived, not stored: destroying the data key destroys them too.
 */
export function deriveSubKey(dataKey: DataKey, info: string, length = 32): Buffer {
  return Buffer.from(hkdfSync('sha256', dataKey.key, Buffer.from(dataKey.tenantId, 'utf8'), info, length));
}

/** The per-tenant key of the blind search index. */
export function deriveBlindIndexKey(dataKey: DataKey): Buffer {
  return deriveSubKey(dataKey, 'atp/blind-index/v1');
}

/** The per-tenant HMAC key of the PII `hash` operator (same input → same token, per tenant only). */
export function derivePiiHashKey(dataKey: DataKey): Buffer {
  return deriveSubKey(dataKey, 'atp/pii-hash/v1');
}

/** HMAC-SHA-256 of a PII value under the tenant's PII hash key, hex. */
export function piiHash(piiHashKey: Buffer, value: string): string {
  return createHmac('sha256', piiHashKey).update(value, 'utf8').digest('hex');
}
