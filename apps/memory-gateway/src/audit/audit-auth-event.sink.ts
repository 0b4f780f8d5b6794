import type { AuditService } from '@app/audit';
import type { AuthEvent, AuthEventSink } from '@app/auth';

/**
 * Writes the auth library's events (auth.denied, apikey.*, tenant.created) into the tenant's
 * audit chain. A 401 has no tenant, so it has no chain to go into: it is left to the logs.
 */
export class AuditAuthEventSink implements AuthEventSink {
  constructor(private readonly audit: AuditService) {}

  emit(event: AuthEvent): Promise<void> {
    if (!event.tenantId) return Promise.resolve();
    return this.audit.record({
      tenantId: event.tenantId,
      action: event.action,
      actorType: actorTypeOf(event.actorId),
      actorId: event.actorId,
      credentialId: event.credentialId,
      resourceType: event.resourceType,
      resourceId: event.resourceId,
      outcome: event.outcome,
      statusCode: event.statusCode,
      requestId: event.requestId,
      sourceIp: event.sourceIp,
      occurredAt: event.at,
    });
  }
}

function actorTypeOf(actorId: string | null): 'api_key' | 'user' | 'system' | 'anonymous' {
  if (!actorId) return 'anonymous';
  if (actorId.startsWith('api_key:')) return 'api_key';
  if (actorId.startsWith('cli:') || actorId === 'system' || actorId === 'test') return 'system';
  return 'user';
}
