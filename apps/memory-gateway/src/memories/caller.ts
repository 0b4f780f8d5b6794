import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { CredentialType } from '@app/auth';

/** Who calls the memory API: the principal plus what the audit trail needs about the request. */
export interface Caller {
  tenantId: string;
  subject: string;
  credentialId: string | null;
  type: CredentialType;
  /** The API key's own PII mode, when its limits set one. */
  keyPiiMode: string | null;
  requestId: string | null;
  sourceIp: string | null;
}

/** The request's {@link Caller}; only on authenticated routes. */
export const CurrentCaller = createParamDecorator((_: unknown, ctx: ExecutionContext): Caller => {
  const req = ctx.switchToHttp().getRequest<FastifyRequest>();
  const p = req.principal;
  if (!p) throw new Error('@CurrentCaller() used on a route that is not authenticated');
  return {
    tenantId: p.tenantId,
    subject: p.subject,
    credentialId: p.credentialId,
    type: p.type,
    keyPiiMode: p.keyLimits?.piiMode ?? null,
    requestId: typeof req.id === 'string' ? req.id : null,
    sourceIp: req.ip ?? null,
  };
});
