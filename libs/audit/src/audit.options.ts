import type { AppConfig } from '@app/config';
import { auditSecretsFromKeyRing, deriveAuditSecret } from './audit-chain';
import type { AuditSecret } from './audit.types';

export const AUDIT_OPTIONS = Symbol('AUDIT_OPTIONS');

export interface AuditOptions {
  /** `AUDIT_LOG_ENABLED`; when false `record` is a no-op (reads still work). */
  enabled: boolean;
  /**
   * The chain's HMAC secret(s). A Buffer is used as the key itself, with id `a1` (derive it
   * with `deriveAuditSecret`). In a list the first secret keys new events and every one of them
   * verifies: keep retired secrets in the list, or rows they keyed fail verification.
   */
  auditSecret: Buffer | AuditSecret | readonly AuditSecret[];
  /** Events per write transaction. Default 500 (a transaction's fixed cost dominates small ones). */
  batchSize?: number;
  /** How often queued events are written. Default 250 ms. */
  flushIntervalMs?: number;
  /** Queued events at which the service refuses new requests with 503 (BufferPressure; never a drop). Default 10 000. */
  maxQueue?: number;
  /** How long shutdown keeps retrying to write what is queued. Default 5 000 ms. */
  shutdownTimeoutMs?: number;
  /** Injected clock for `occurred_at`; each call returns a Date the service may keep. */
  clock?: () => Date;
}

/** Normalises `auditSecret` into a non-empty list whose first entry keys new events. */
export function auditSecretList(secret: AuditOptions['auditSecret']): AuditSecret[] {
  const list = Buffer.isBuffer(secret)
    ? [{ id: 'a1', key: secret }]
    : 'key' in secret
      ? [secret]
      : [...secret];
  if (!list.length) throw new Error('audit: at least one audit secret is required');
  for (const s of list) {
    if (s.key.length < 16) throw new Error(`audit: secret "${s.id}" must be at least 16 bytes`);
    if (!/^[A-Za-z0-9_.:-]{1,40}$/.test(s.id))
      throw new Error(`audit: secret id "${s.id}" is not a valid id`);
  }
  return list;
}

/**
 * Options from an app's config. New events are keyed by a secret derived from the key ring's
 * primary key (`kr:<kid>`) — both services hold the ring since the router stores encrypted
 * responses — or, without a key ring, from `JWT_SECRET_KEY` (`jwt`, what router rows written
 * before that were keyed with). Every derivable secret verifies, so either service can verify a
 * chain both wrote to. Rotating JWT_SECRET_KEY breaks verification of rows keyed by the old one
 * unless the caller keeps the old secret in the list.
 */
export function auditOptionsFromConfig(
  config: AppConfig,
  overrides: Partial<AuditOptions> = {},
): AuditOptions {
  const ring = auditSecretsFromKeyRing(config.encryptionKeys).map((s) => ({ ...s, id: `kr:${s.id}` }));
  const jwt = config.jwtSecret ? [deriveAuditSecret(config.jwtSecret, 'jwt')] : [];
  return {
    enabled: config.env.AUDIT_LOG_ENABLED,
    auditSecret: [...ring, ...jwt],
    ...overrides,
  };
}
