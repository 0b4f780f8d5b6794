import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Limits } from './limits';
import { type Scope, SCOPES } from './scopes';

/** How a caller proved who it is; `operator` is the CLI or the bootstrap (no request, no credential). */
export type CredentialType = 'api_key' | 'platform_jwt' | 'oidc' | 'operator';

/**
 * Who a request (or an operator's command) runs as (CONTRACT §3), in both services: every read or
 * write of tenant data is keyed by `tenantId`, every audit event names `subject`, `credentialId`,
 * `requestId` and `sourceIp`.
 */
export interface Caller {
  tenantId: string;
  /** `api_key:<id>` for API keys, the token's `sub` for JWTs, `cli:<user>` for the operator. */
  subject: string;
  scopes: readonly Scope[];
  /** The API key id, or the token's `jti` (null when the token has none, and for the operator). */
  credentialId: string | null;
  type: CredentialType;
  /** An API key's own limits (null for tokens), for the enforcement layer without another lookup. */
  keyLimits: Limits | null;
  /** The request's id (null outside a request). */
  requestId: string | null;
  sourceIp: string | null;
}

/** What a credential strategy knows: the caller without the request it came with. */
export type CredentialIdentity = Omit<Caller, 'requestId' | 'sourceIp'>;

/**
 * The operator at the CLI, or the bootstrap: every scope, platform-wide. Its `tenantId` is `*`,
 * which is never a real tenant id (those are UUIDs), so it can read or write no tenant's data by
 * accident.
 */
export function operatorCaller(subject: string): Caller {
  return {
    tenantId: '*',
    subject,
    scopes: SCOPES,
    credentialId: null,
    type: 'operator',
    keyLimits: null,
    requestId: null,
    sourceIp: null,
  };
}

/** The identity a credential proved, as the caller of this request. */
export function callerOf(identity: CredentialIdentity, req: FastifyRequest): Caller {
  // Written out: `{ ...identity, requestId, sourceIp }` (keys added after a spread) cost ~1.5 µs
  // a request on Node 20 (bench/README.md, "Object spreads").
  return {
    tenantId: identity.tenantId,
    subject: identity.subject,
    scopes: identity.scopes,
    credentialId: identity.credentialId,
    type: identity.type,
    keyLimits: identity.keyLimits,
    requestId: typeof req.id === 'string' ? req.id : null,
    sourceIp: req.ip ?? null,
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth guard on every authenticated route. */
    caller?: Caller;
  }
}

/** The authenticated {@link Caller} of the request; only on authenticated routes. */
export const CurrentCaller = createParamDecorator((_: unknown, ctx: ExecutionContext): Caller => {
  const req = ctx.switchToHttp().getRequest<FastifyRequest>();
  // Only reachable when a route asks for the caller without requiring authentication: a bug.
  if (!req.caller) throw new Error('@CurrentCaller() used on a route that is not authenticated');
  return req.caller;
});
