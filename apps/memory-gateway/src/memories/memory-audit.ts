import { Injectable } from '@nestjs/common';
import { type AuditAction, type AuditOutcome, AuditService } from '@app/audit';
import { AtpError } from '@app/common';
import type { PiiTypeCount } from '@app/pii';
import type { Caller } from '@app/auth';

export interface AuditedAccess {
  action: AuditAction;
  /** `namespace/key`, a namespace, or null for tenant-wide operations. */
  resourceId: string | null;
  resourceType?: string;
  outcome: AuditOutcome;
  statusCode: number;
  piiSummary?: readonly PiiTypeCount[] | null;
}

/** Records memory accesses in the audit chain: identifiers, outcomes, PII types and counts — never a value. */
@Injectable()
export class MemoryAudit {
  constructor(private readonly audit: AuditService) {}

  record(caller: Caller, access: AuditedAccess): void {
    void this.audit.record({
      tenantId: caller.tenantId,
      action: access.action,
      actorType: caller.type === 'api_key' ? 'api_key' : 'user',
      actorId: caller.subject,
      credentialId: caller.credentialId,
      resourceType: access.resourceType ?? 'memory',
      resourceId: access.resourceId,
      outcome: access.outcome,
      statusCode: access.statusCode,
      requestId: caller.requestId,
      sourceIp: caller.sourceIp,
      piiSummary: access.piiSummary?.length ? access.piiSummary : null,
    });
  }

  /** A failed access: the status the client gets. */
  failure(caller: Caller, action: AuditAction, resourceId: string | null, err: unknown): void {
    const status = err instanceof AtpError ? err.status : 500;
    this.record(caller, { action, resourceId, outcome: 'failure', statusCode: status });
  }
}
