import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Limits } from './limits';
import type { Scope } from './scopes';

export type CredentialType = 'api_key' | 'platform_jwt' | 'oidc';

/** Who a request runs as (CONTRACT §3). Every read or write of tenant data is keyed by `tenantId`. */
export interface Principal {
  tenantId: string;
  /** `api_key:<id>` for API keys, the token's `sub` for JWTs. */
  subject: string;
  scopes: Scope[];
  /** The API key id, or the token's `jti` (null when the token has none). */
  credentialId: string | null;
  type: CredentialType;
  /** An API key's own limits (null for tokens), for the enforcement layer without another lookup. */
  keyLimits: Limits | null;
}

/**
 * Who performs an administrative action, for the scope-escalation check and the audit trail:
 * a request's principal, or the operator at the CLI.
 */
export interface Actor {
  subject: string;
  credentialId: string | null;
  scopes: readonly Scope[];
  requestId: string | null;
  sourceIp: string | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth guard on every authenticated route. */
    principal?: Principal;
  }
}

function requestOf(ctx: ExecutionContext): FastifyRequest {
  return ctx.switchToHttp().getRequest<FastifyRequest>();
}

function principalOf(req: FastifyRequest): Principal {
  // Only reachable when a route asks for the principal without requiring authentication: a bug.
  if (!req.principal) throw new Error('@Principal() used on a route that is not authenticated');
  return req.principal;
}

/** The authenticated {@link Principal principal} of the request. */
export const Principal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal =>
  principalOf(requestOf(ctx)),
);

/** The principal as the actor of an administrative action, with request id and source IP for the audit trail. */
export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => {
  const req = requestOf(ctx);
  const p = principalOf(req);
  return {
    subject: p.subject,
    credentialId: p.credentialId,
    scopes: p.scopes,
    requestId: req.id ?? null,
    sourceIp: req.ip ?? null,
  };
});
