/** Every action the audit log records (a fixed list: dashboards and alerts key on these). */
export const AUDIT_ACTIONS = [
  'memory.write',
  'memory.read',
  'memory.delete',
  'memory.search',
  'memory.erase',
  'memory.reindex',
  'pii.detected',
  'pii.blocked',
  'auth.denied',
  'apikey.created',
  'apikey.revoked',
  'tenant.created',
  'limits.updated',
  'chat.completion',
  'embeddings',
  'responses.create',
  'messages.create',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who acted: a key, a person (platform JWT / OIDC), a service, the platform itself, or nobody known. */
export const ACTOR_TYPES = ['api_key', 'user', 'service', 'system', 'anonymous'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

export const AUDIT_OUTCOMES = ['success', 'failure', 'denied'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** PII found in a request: entity types and counts only, never the matched text. */
export interface PiiCount {
  type: string;
  count: number;
}

/**
 * What a caller hands to `AuditService.record`. Identifiers and counts only: never a value, a
 * prompt or a secret.
 */
export interface AuditEventInput {
  tenantId: string;
  action: AuditAction;
  actorType: ActorType;
  actorId?: string | null;
  credentialId?: string | null;
  resourceType?: string | null;
  /** E.g. `namespace/key` of a memory record, an API key id. */
  resourceId?: string | null;
  outcome: AuditOutcome;
  statusCode?: number | null;
  requestId?: string | null;
  /** The client address as seen; stored truncated (/24 IPv4, /48 IPv6). */
  sourceIp?: string | null;
  /** Either `[{type, count}]` or `{TYPE: count}`. */
  piiSummary?: readonly PiiCount[] | Readonly<Record<string, number>> | null;
  /** Defaults to the service clock at `record` time. */
  occurredAt?: Date;
  /** Defaults to a random UUID. */
  eventId?: string;
}

/** A normalised event waiting for its place in the chain (no seq or hashes yet). */
export interface PendingAuditEvent {
  event_id: string;
  tenant_id: string;
  occurred_at: Date;
  actor_type: ActorType;
  actor_id: string | null;
  credential_id: string | null;
  action: AuditAction;
  resource_type: string | null;
  resource_id: string | null;
  outcome: AuditOutcome;
  status_code: number | null;
  request_id: string | null;
  source_ip: string | null;
  pii_summary: PiiCount[] | null;
}

/** A stored event: the wire shape of `/v1/audit` and the NDJSON export (snake_case). */
export interface AuditEventRecord extends PendingAuditEvent {
  seq: number;
  /** Which audit secret keyed `hash` (lets the secret rotate without breaking verification). */
  hash_key_id: string;
  prev_hash: string;
  hash: string;
}

/** The JSON shape of an event in API responses: `occurred_at` as an ISO-8601 string. */
export type AuditEventDto = Omit<AuditEventRecord, 'occurred_at'> & { occurred_at: string };

/** Filters of `/v1/audit` and the export; all optional but the tenant. */
export interface AuditQuery {
  /** Inclusive. */
  start?: Date;
  /** Exclusive. */
  end?: Date;
  action?: AuditAction;
  /** Matches `actor_id`. */
  actor?: string;
  /** 1..1000, default 100 (list only). */
  limit?: number;
  /** `next_cursor` of the previous page. */
  cursor?: string;
}

export interface AuditPage {
  items: AuditEventDto[];
  next_cursor: string | null;
}

export type ChainFailureReason =
  'seq_gap' | 'prev_hash_mismatch' | 'hash_mismatch' | 'unknown_hash_key' | 'head_mismatch';

/** Result of walking one tenant's chain. */
export interface ChainVerification {
  ok: boolean;
  /** Events whose hash was checked. */
  checked: number;
  first_bad_seq: number | null;
  reason: ChainFailureReason | null;
}

/** A secret that keys the chain's HMAC. The first of a list is current; the others verify old rows. */
export interface AuditSecret {
  id: string;
  key: Buffer;
}
