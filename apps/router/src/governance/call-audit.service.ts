import { Injectable, Logger } from '@nestjs/common';
import type { Principal } from '@app/auth';
import { type AuditOutcome, AuditService, type PiiCount } from '@app/audit';

export interface CallAuditEntry {
  principal: Principal;
  action: 'chat.completion' | 'embeddings';
  requestId: string;
  sourceIp: string | null;
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

@Injectable()
export class CallAuditService {
  private readonly logger = new Logger('CallAudit');

  constructor(private readonly audit: AuditService) {}

  private actor(p: Principal) {
    return {
      tenantId: p.tenantId,
      actorType: p.type === 'api_key' ? ('api_key' as const) : ('user' as const),
      actorId: p.subject,
      credentialId: p.credentialId,
    };
  }

  /** With `durable`, resolves once the event is committed (see AuditService.record). Never rejects. */
  call(e: CallAuditEntry, durable = false): Promise<void> {
    const p = e.principal;
    return this.safe(() =>
      this.audit.record(
        {
          // written out, not spread from actor(): one event per request
          tenantId: p.tenantId,
          actorType: p.type === 'api_key' ? 'api_key' : 'user',
          actorId: p.subject,
          credentialId: p.credentialId,
          action: e.action,
          resourceType: 'llm_call',
          resourceId: callResourceId(e),
          outcome: auditOutcome(e.status),
          statusCode: e.status,
          requestId: e.requestId,
          sourceIp: e.sourceIp,
        },
        { durable },
      ),
    );
  }

  pii(
    p: Principal,
    blocked: boolean,
    summary: readonly PiiCount[],
    ctx: { requestId: string; sourceIp: string | null; resource: string },
  ): void {
    void this.safe(() =>
      this.audit.record({
        ...this.actor(p),
        action: blocked ? 'pii.blocked' : 'pii.detected',
        resourceType: 'prompt',
        resourceId: ctx.resource,
        outcome: blocked ? 'denied' : 'success',
        statusCode: blocked ? 422 : null,
        requestId: ctx.requestId,
        sourceIp: ctx.sourceIp,
        piiSummary: summary,
      }),
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
