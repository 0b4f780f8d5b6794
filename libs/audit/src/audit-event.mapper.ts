import { AtpError, uuidv7 } from '@app/common';
import { truncateSourceIp } from './source-ip';
import {
  ACTOR_TYPES,
  AUDIT_ACTIONS,
  AUDIT_OUTCOMES,
  type AuditEventDto,
  type AuditEventInput,
  type AuditEventRecord,
  type PendingAuditEvent,
  type PiiCount,
} from './audit.types';

/** Column widths (the migration uses the same numbers). Longer identifiers are cut, not rejected. */
export const AUDIT_LIMITS = {
  tenantId: 64,
  actorId: 256,
  credentialId: 64,
  resourceType: 32,
  resourceId: 512,
  requestId: 128,
  piiType: 48,
  piiTypes: 32,
} as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A bug in the caller (an unknown action, a missing tenant), not a client's mistake. */
export class AuditEventInvalidError extends AtpError {
  constructor(message: string) {
    super(500, 'audit_event_invalid', message);
  }
}

/**
 * At most `max` code points of `value` (a surrogate pair counts once, a lone surrogate once, as
 * `Array.from` splits a string); null for null, undefined and ''.
 */
export function cut(value: string | null | undefined, max: number): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'string')
    return Array.from(value as Iterable<string>)
      .slice(0, max)
      .join('');
  // `length` counts UTF-16 code units, never fewer than code points: short strings are kept whole.
  if (value.length <= max) return value;
  let end = 0;
  for (let points = 0; points < max && end < value.length; points++) {
    const unit = value.charCodeAt(end);
    end +=
      unit >= 0xd800 && unit <= 0xdbff && end + 1 < value.length && isLowSurrogate(value.charCodeAt(end + 1))
        ? 2
        : 1;
  }
  return value.slice(0, end);
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

function oneOf<T extends string>(list: readonly T[], value: string, what: string): T {
  if (!(list as readonly string[]).includes(value))
    throw new AuditEventInvalidError(`unknown audit ${what} "${value}"`);
  return value as T;
}

/** `[{type, count}]` sorted by type, positive integer counts only. */
export function normalizePiiSummary(summary: AuditEventInput['piiSummary']): PiiCount[] | null {
  if (!summary) return null;
  const entries: [string, number][] = Array.isArray(summary)
    ? (summary as readonly PiiCount[]).map((e) => [e.type, e.count])
    : Object.entries(summary as Record<string, number>);
  const totals = new Map<string, number>();
  for (const [type, count] of entries) {
    if (typeof type !== 'string' || !type || !Number.isSafeInteger(count) || count < 0) {
      throw new AuditEventInvalidError('pii_summary holds entity types and non-negative integer counts only');
    }
    const key = cut(type, AUDIT_LIMITS.piiType)!;
    totals.set(key, (totals.get(key) ?? 0) + count);
  }
  const list = [...totals]
    .filter(([, count]) => count > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, AUDIT_LIMITS.piiTypes)
    .map(([type, count]) => ({ type, count }));
  return list.length ? list : null;
}

/**
 * Validates and normalises an event so that what is hashed is exactly what the database
 * stores and returns (lengths, millisecond timestamps, truncated IP, sorted PII summary).
 */
export function toPendingEvent(input: AuditEventInput, now: Date): PendingAuditEvent {
  if (!input.tenantId) throw new AuditEventInvalidError('an audit event needs a tenant id');
  if (input.tenantId.length > AUDIT_LIMITS.tenantId)
    throw new AuditEventInvalidError('tenant id is too long');
  const status = input.statusCode ?? null;
  if (status !== null && (!Number.isInteger(status) || status < 100 || status > 599)) {
    throw new AuditEventInvalidError(`status_code ${status} is not an HTTP status`);
  }
  if (input.eventId !== undefined && !UUID.test(input.eventId))
    throw new AuditEventInvalidError('event_id must be a UUID');
  const occurredAt = input.occurredAt ?? now;
  if (Number.isNaN(occurredAt.getTime())) throw new AuditEventInvalidError('occurred_at is not a valid date');
  return {
    // time-ordered ids: a chain's inserts append to the primary key's B-tree
    event_id: input.eventId ?? uuidv7(occurredAt.getTime()),
    tenant_id: input.tenantId,
    // a caller's Date is copied (it may change it later); `now` is ours
    occurred_at: input.occurredAt ? new Date(occurredAt.getTime()) : occurredAt,
    actor_type: oneOf(ACTOR_TYPES, input.actorType, 'actor type'),
    actor_id: cut(input.actorId, AUDIT_LIMITS.actorId),
    credential_id: cut(input.credentialId, AUDIT_LIMITS.credentialId),
    action: oneOf(AUDIT_ACTIONS, input.action, 'action'),
    resource_type: cut(input.resourceType, AUDIT_LIMITS.resourceType),
    resource_id: cut(input.resourceId, AUDIT_LIMITS.resourceId),
    outcome: oneOf(AUDIT_OUTCOMES, input.outcome, 'outcome'),
    status_code: status,
    request_id: cut(input.requestId, AUDIT_LIMITS.requestId),
    source_ip: truncateSourceIp(input.sourceIp),
    pii_summary: normalizePiiSummary(input.piiSummary),
  };
}

/** The API/NDJSON shape of a stored event. */
export function toAuditEventDto(record: AuditEventRecord): AuditEventDto {
  return { ...record, occurred_at: record.occurred_at.toISOString() };
}

/** Opaque list cursor: the seq to continue below. */
export function encodeCursor(seq: number): string {
  return Buffer.from(JSON.stringify({ s: seq }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { s?: unknown };
    if (Number.isSafeInteger(parsed.s) && (parsed.s as number) > 0) return parsed.s as number;
  } catch {
    // fall through
  }
  throw AtpError.badRequest('invalid_cursor', 'cursor is not a value returned as next_cursor', 'cursor');
}
