import { Injectable, Logger } from '@nestjs/common';
import type { Caller } from '@app/auth';
import { type AuditEventInput, type AuditOutcome, AuditService, type PiiCount } from '@app/audit';

/** The audit action of a model call, by the door it came in through. */
export const CALL_ACTIONS = {
  chat: 'chat.completion',
  embeddings: 'embeddings',
  responses: 'responses.create',
  messages: 'messages.create',
} as const;
export type CallAction = (typeof CALL_ACTIONS)[keyof typeof CALL_ACTIONS];

export interface CallAuditEntry {
  caller: Caller;
  action: CallAction;
  status: number;
  /** The alias or model the client asked for. */
  route: string;
  provider: string | null;
  model: string | null;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  latencyMs: number;
}

/** denied = refused by policy (401/403/422/429), failure = anything else that is not a success. */
export function auditOutcome(status: number): AuditOutcome {
  if (status < 400) return 'success';
  return status === 401 || status === 403 || status === 422 || status === 429 ? 'denied' : 'failure';
}

/**
 * One audit event per router call. The audit schema has no free-form field, so the call's
 * facts go into `resource_id` as `key=value` pairs (identifiers and numbers only: never prompt
 * or completion text).
 */
export function callResourceId(e: CallAuditEntry): string {
  return (
    `route=${e.route};provider=${e.provider ?? '-'};model=${e.model ?? '-'}` +
    `;prompt_tokens=${e.promptTokens};completion_tokens=${e.completionTokens}` +
    `;cost_usd=${e.costUsd.toFixed(8)};latency_ms=${Math.round(e.latencyMs)}`
  );
}

/** What a call's audit events say beyond who made it. */
type EventBody = Pick<
  AuditEventInput,
  'action' | 'resourceType' | 'resourceId' | 'outcome' | 'statusCode' | 'piiSummary'
>;

/**
 * The caller's fields and the event's, written out in one literal: `{ ...actor, action, … }`
 * (adding keys after a spread) cost ~1.5 µs an object on Node 20 (bench/README.md, "Object
 * spreads"), on every call.
 */
function eventOf(c: Caller, e: EventBody): AuditEventInput {
  return {
    tenantId: c.tenantId,
    actorType: c.type === 'api_key' ? 'api_key' : 'user',
    actorId: c.subject,
    credentialId: c.credentialId,
    requestId: c.requestId,
    sourceIp: c.sourceIp,
    action: e.action,
    resourceType: e.resourceType,
    resourceId: e.resourceId,
    outcome: e.outcome,
    statusCode: e.statusCode,
    piiSummary: e.piiSummary ?? null,
  };
}

/** The audit events of model calls: the call itself, and what the prompt PII policy did. */
@Injectable()
export class CallAuditService {
  private readonly logger = new Logger('CallAudit');

  constructor(private readonly audit: AuditService) {}

  /** With `durable`, resolves once the event is committed (see AuditService.record). Never rejects. */
  call(e: CallAuditEntry, durable = false): Promise<void> {
    return this.safe(() =>
      this.audit.record(
        eventOf(e.caller, {
          action: e.action,
          resourceType: 'llm_call',
          resourceId: callResourceId(e),
          outcome: auditOutcome(e.status),
          statusCode: e.status,
        }),
        { durable },
      ),
    );
  }

  /** `pii.detected` (redacted) or `pii.blocked`, naming the types and counts only. */
  pii(caller: Caller, blocked: boolean, summary: readonly PiiCount[], resource: string): void {
    void this.safe(() =>
      this.audit.record(
        eventOf(caller, {
          action: blocked ? 'pii.blocked' : 'pii.detected',
          resourceType: 'prompt',
          resourceId: resource,
          outcome: blocked ? 'denied' : 'success',
          statusCode: blocked ? 422 : null,
          piiSummary: summary,
        }),
      ),
    );
  }

  /** Auditing never fails a call (and slows it only by a durable wait the caller asked for). */
  private safe(fn: () => Promise<void>): Promise<void> {
    try {
      return fn().catch((err: unknown) =>
        this.logger.warn(`audit event not recorded: ${(err as Error).message}`),
      );
    } catch (err) {
      this.logger.warn(`audit event not recorded: ${(err as Error).message}`);
      return Promise.resolve();
    }
  }
}
