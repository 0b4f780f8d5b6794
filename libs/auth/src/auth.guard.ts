import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AtpError } from '@app/common';
import { AuthClock } from './clock';
import { IS_PUBLIC_KEY, REQUIRED_SCOPES_KEY } from './auth.constants';
import { CredentialAuthenticator } from './credential-authenticator';
import { AuthErrors } from './errors';
import { AuthEvents } from './events/auth-events';
import type { Caller } from './caller';
import { missingScopes, type Scope } from './scopes';

interface RoutePolicy {
  public: boolean;
  /** undefined: the route declares nothing (then only the /v1 rule applies). */
  scopes: Scope[] | undefined;
}

/** The API lives under /v1: a route there with no declared policy still needs a credential. */
function isApiRoute(req: FastifyRequest): boolean {
  const path = req.routeOptions?.url ?? req.url.split('?')[0];
  return path === '/v1' || path.startsWith('/v1/');
}

/**
 * The one global guard (both apps). Deny by default for the API: every route under /v1 needs a
 * valid credential unless marked {@link Public}; `@Scopes(...)` adds the scopes it needs (and
 * protects a route anywhere). Ops routes (/health, /ready, /metrics) declare nothing and live
 * outside /v1, so they stay open; /docs and /openapi.json never reach Nest's guards.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly policies = new WeakMap<object, RoutePolicy>();

  constructor(
    private readonly reflector: Reflector,
    private readonly credentials: CredentialAuthenticator,
    private readonly events: AuthEvents,
    private readonly clock: AuthClock,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const policy = this.policyOf(ctx);
    if (policy.public) return true;
    const http = ctx.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    if (policy.scopes === undefined && !isApiRoute(req)) return true;

    let caller: Caller;
    try {
      caller = await this.credentials.authenticate(req, http.getResponse<FastifyReply>());
    } catch (err) {
      if (err instanceof AtpError) this.denied(req, err, null);
      throw err;
    }
    const missing = missingScopes(caller.scopes, policy.scopes ?? []);
    if (missing.length) {
      const err = AuthErrors.insufficientScope(missing);
      this.denied(req, err, caller);
      throw err;
    }
    req.caller = caller;
    return true;
  }

  private policyOf(ctx: ExecutionContext): RoutePolicy {
    const handler = ctx.getHandler();
    let policy = this.policies.get(handler);
    if (!policy) {
      const targets = [handler, ctx.getClass()];
      const declared = targets
        .map((t) => this.reflector.get<Scope[] | undefined>(REQUIRED_SCOPES_KEY, t))
        .filter((s) => s !== undefined);
      policy = {
        public: this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets) === true,
        scopes: declared.length ? [...new Set(declared.flat())] : undefined,
      };
      this.policies.set(handler, policy);
    }
    return policy;
  }

  private denied(req: FastifyRequest, err: AtpError, caller: Caller | null): void {
    this.events.emit({
      action: 'auth.denied',
      outcome: 'denied',
      tenantId: caller?.tenantId ?? null,
      actorId: caller?.subject ?? null,
      credentialId: caller?.credentialId ?? null,
      statusCode: err.status,
      requestId: req.id ?? null,
      sourceIp: req.ip ?? null,
      resourceType: 'route',
      resourceId: `${req.method} ${req.routeOptions?.url ?? req.url.split('?')[0]}`,
      reason: err.code,
      at: new Date(this.clock.now()),
    });
  }
}
