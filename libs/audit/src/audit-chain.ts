import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from './canonical-json';
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
  const rows = events.map((event) => {
    seq += 1;
    const unsealed: Hashable = { ...event, seq, hash_key_id: secret.id, prev_hash: hash };
    hash = computeEventHash(secret.key, unsealed);
    return { ...unsealed, hash };
  });
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
