import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { canonicalJson, isWellFormedString } from './canonical-json';
import type {
  AuditEventRecord,
  AuditSecret,
  ChainFailureReason,
  ChainVerification,
  PendingAuditEvent,
} from './audit.types';

/** `prev_hash` of a tenant's first event. */
export const GENESIS_HASH = '0'.repeat(64);

/** The head of one tenant's chain: its last seq and hash (seq 0 = empty chain). */
export interface ChainHead {
  seq: number;
  hash: string;
}

export const EMPTY_HEAD: ChainHead = { seq: 0, hash: GENESIS_HASH };

/**
 * The chain's HMAC secret from a root key (the key ring's primary key on the memory gateway,
 * a dedicated secret on the router), via HKDF-SHA-256, so the root key itself is never used twice.
 */
export function deriveAuditSecret(rootKey: Buffer | string, id = 'a1'): AuditSecret {
  const ikm = typeof rootKey === 'string' ? Buffer.from(rootKey, 'utf8') : rootKey;
  if (ikm.length < 16) throw new RangeError('audit root key must be at least 16 bytes');
  return { id, key: Buffer.from(hkdfSync('sha256', ikm, 'atp-audit', 'atp/audit-chain/v1', 32)) };
}

/** One audit secret per key-ring entry, ids preserved: rows stay verifiable after a rotation. */
export function auditSecretsFromKeyRing(ring: readonly { id: string; key: Buffer }[]): AuditSecret[] {
  return ring.map((k) => deriveAuditSecret(k.key, k.id));
}

type Hashable = Omit<AuditEventRecord, 'hash'>;

/** The exact object the HMAC covers: every stored field but `hash`, timestamps as ISO-8601. */
export function hashInput(event: Hashable): string {
  return fastHashInput(event) ?? slowHashInput(event);
}

function slowHashInput(event: Hashable): string {
  return canonicalJson({
    event_id: event.event_id,
    tenant_id: event.tenant_id,
    seq: event.seq,
    occurred_at: event.occurred_at.toISOString(),
    actor_type: event.actor_type,
    actor_id: event.actor_id,
    credential_id: event.credential_id,
    action: event.action,
    resource_type: event.resource_type,
    resource_id: event.resource_id,
    outcome: event.outcome,
    status_code: event.status_code,
    request_id: event.request_id,
    source_ip: event.source_ip,
    pii_summary: event.pii_summary,
    hash_key_id: event.hash_key_id,
    prev_hash: event.prev_hash,
  });
}

/** `"…"` for a string without lone surrogates, `null` for null, else undefined (not fast-path). */
function str(value: unknown, nullable: boolean): string | undefined {
  if (typeof value === 'string') return isWellFormedString(value) ? JSON.stringify(value) : undefined;
  return nullable && value === null ? 'null' : undefined;
}

function num(value: unknown, nullable: boolean): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : undefined;
  return nullable && value === null ? 'null' : undefined;
}

/** `[{"count":…,"type":"…"},…]` for a list of plain `{type, count}` objects, else undefined. */
function piiList(value: unknown): string | undefined {
  if (value === null) return 'null';
  if (!Array.isArray(value)) return undefined;
  let out = '[';
  for (let i = 0; i < value.length; i++) {
    const entry = value[i] as unknown;
    if (typeof entry !== 'object' || entry === null) return undefined;
    const proto = Object.getPrototypeOf(entry) as unknown;
    if (proto !== Object.prototype && proto !== null) return undefined;
    const keys = Object.keys(entry);
    if (keys.length !== 2 || !Object.hasOwn(entry, 'type') || !Object.hasOwn(entry, 'count'))
      return undefined;
    const { type, count } = entry as { type: unknown; count: unknown };
    const t = str(type, false);
    const c = num(count, false);
    if (t === undefined || c === undefined) return undefined;
    out += `${i ? ',' : ''}{"count":${c},"type":${t}}`;
  }
  return `${out}]`;
}

/**
 * {@link canonicalJson} of the hash input written out directly (keys already in sorted order),
 * for the shapes the audit log stores. Undefined when any field is something else (an omitted
 * field, an odd `pii_summary`, a lone surrogate): the generic serializer then decides, so the
 * output (or the error) is always exactly canonicalJson's.
 */
function fastHashInput(e: Hashable): string | undefined {
  const occurredAt = e.occurred_at.toISOString();
  const action = str(e.action, false);
  const actorId = str(e.actor_id, true);
  const actorType = str(e.actor_type, false);
  const credentialId = str(e.credential_id, true);
  const eventId = str(e.event_id, false);
  const hashKeyId = str(e.hash_key_id, false);
  const outcome = str(e.outcome, false);
  const pii = piiList(e.pii_summary);
  const prevHash = str(e.prev_hash, false);
  const requestId = str(e.request_id, true);
  const resourceId = str(e.resource_id, true);
  const resourceType = str(e.resource_type, true);
  const seq = num(e.seq, false);
  const sourceIp = str(e.source_ip, true);
  const statusCode = num(e.status_code, true);
  const tenantId = str(e.tenant_id, false);
  if (
    action === undefined ||
    actorId === undefined ||
    actorType === undefined ||
    credentialId === undefined ||
    eventId === undefined ||
    hashKeyId === undefined ||
    outcome === undefined ||
    pii === undefined ||
    prevHash === undefined ||
    requestId === undefined ||
    resourceId === undefined ||
    resourceType === undefined ||
    seq === undefined ||
    sourceIp === undefined ||
    statusCode === undefined ||
    tenantId === undefined
  ) {
    return undefined;
  }
  return (
    `{"action":${action},"actor_id":${actorId},"actor_type":${actorType},` +
    `"credential_id":${credentialId},"event_id":${eventId},"hash_key_id":${hashKeyId},` +
    `"occurred_at":${JSON.stringify(occurredAt)},"outcome":${outcome},"pii_summary":${pii},` +
    `"prev_hash":${prevHash},"request_id":${requestId},"resource_id":${resourceId},` +
    `"resource_type":${resourceType},"seq":${seq},"source_ip":${sourceIp},` +
    `"status_code":${statusCode},"tenant_id":${tenantId}}`
  );
}

/** HMAC-SHA-256 (hex) over the canonical JSON of the event, `prev_hash` included. */
export function computeEventHash(secret: Buffer, event: Hashable): string {
  return createHmac('sha256', secret).update(hashInput(event), 'utf8').digest('hex');
}

/**
 * Gives pending events (all of one tenant) their place after `head`: consecutive seqs, each
 * `prev_hash` the previous `hash`. Returns the rows and the new head.
 */
export function sealEvents(
  secret: AuditSecret,
  head: ChainHead,
  events: readonly PendingAuditEvent[],
): { rows: AuditEventRecord[]; head: ChainHead } {
  let { seq, hash } = head;
  const rows = new Array<AuditEventRecord>(events.length);
  for (let i = 0; i < events.length; i++) {
    seq += 1;
    const e = events[i];
    // Written out (not spread): one object shape for every row, several times cheaper to build.
    const row: AuditEventRecord = {
      event_id: e.event_id,
      tenant_id: e.tenant_id,
      seq,
      occurred_at: e.occurred_at,
      actor_type: e.actor_type,
      actor_id: e.actor_id,
      credential_id: e.credential_id,
      action: e.action,
      resource_type: e.resource_type,
      resource_id: e.resource_id,
      outcome: e.outcome,
      status_code: e.status_code,
      request_id: e.request_id,
      source_ip: e.source_ip,
      pii_summary: e.pii_summary,
      hash_key_id: secret.id,
      prev_hash: hash,
      hash: '',
    };
    hash = computeEventHash(secret.key, row);
    row.hash = hash;
    rows[i] = row;
  }
  return { rows, head: { seq, hash } };
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Walks a chain one row at a time (so it can verify a stream of pages): seq must follow without
 * gaps, `prev_hash` must be the previous row's hash (catches re-ordering), and `hash` must match
 * the recomputed HMAC (catches an edited field). Stops at the first bad row.
 */
export class ChainVerifier {
  private expected: ChainHead = EMPTY_HEAD;
  private checkedCount = 0;
  private failure: { seq: number; reason: ChainFailureReason } | null = null;

  constructor(private readonly secrets: readonly AuditSecret[]) {}

  get failed(): boolean {
    return this.failure !== null;
  }

  /** Checks the next row; returns false (and remembers why) at the first bad one. */
  check(row: AuditEventRecord): boolean {
    if (this.failure) return false;
    const seq = this.expected.seq + 1;
    if (row.seq !== seq) return this.fail(seq, 'seq_gap');
    if (!sameHex(row.prev_hash, this.expected.hash)) return this.fail(seq, 'prev_hash_mismatch');
    const secret = this.secrets.find((s) => s.id === row.hash_key_id);
    if (!secret) return this.fail(seq, 'unknown_hash_key');
    const { hash, ...rest } = row;
    if (!sameHex(hash, computeEventHash(secret.key, rest))) return this.fail(seq, 'hash_mismatch');
    this.checkedCount += 1;
    this.expected = { seq, hash };
    return true;
  }

  /**
   * The verdict. `head` is the tenant's recorded chain head (null when none): rows missing
   * at the end (a truncated tail) or a head that does not match the last row are failures.
   */
  result(head: ChainHead | null): ChainVerification {
    if (!this.failure && head && head.seq > 0) {
      if (this.expected.seq < head.seq) this.fail(this.expected.seq + 1, 'seq_gap');
      else if (this.expected.seq === head.seq && !sameHex(head.hash, this.expected.hash)) {
        this.fail(head.seq, 'head_mismatch');
      }
    } else if (!this.failure && !head && this.expected.seq > 0) {
      this.fail(this.expected.seq, 'head_mismatch');
    }
    const failure = this.failure;
    return {
      ok: failure === null,
      checked: this.checkedCount,
      first_bad_seq: failure?.seq ?? null,
      reason: failure?.reason ?? null,
    };
  }

  /** Seq of the last row that verified (0 before any). */
  get lastSeq(): number {
    return this.expected.seq;
  }

  private fail(seq: number, reason: ChainFailureReason): false {
    this.failure = { seq, reason };
    return false;
  }
}
