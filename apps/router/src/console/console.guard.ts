import { type CanActivate, createParamDecorator, type ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { classifyCredential, type Caller, TenantService } from '@app/auth';
import { AtpError } from '@app/common';
import {
  CSRF_HEADER,
  consoleScopes,
  csrfTokenMatches,
  isCrossSite,
  readCookie,
  SESSION_COOKIE,
  tokenClaims,
} from './console-session';
import { ConsoleSessionService } from './console-session.service';

/** Which tenant a console call works on, and as whom. */
export interface ConsoleScope {
  tenantId: string;
  caller: Caller;
  platformAdmin: boolean;
  /** The session token (for sign-out). */
  token: string;
  expiresAt: Date;
}

declare module 'fastify' {
  interface FastifyRequest {
    consoleScope?: ConsoleScope;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Guards the console's API (/console/api, outside /v1): the session cookie is accepted here and
 * nowhere else (the /v1 API reads only the Authorization header, so a browser's cookie can never
 * act there). Every mutating call must come from the console's own origin and carry the session's
 * CSRF token. `?tenant=` switches tenant, for platform admins only.
 */
@Injectable()
export class ConsoleGuard implements CanActivate {
  constructor(
    private readonly sessions: ConsoleSessionService,
    private readonly tenants: TenantService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const http = ctx.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    void http.getResponse<FastifyReply>().header('cache-control', 'no-store');
    const token = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (!token)
      throw AtpError.unauthorized(
        'console_session_missing',
        'You are not signed in to the console (or the session expired)',
      );
    if (classifyCredential(token).kind !== 'platform_jwt')
      throw AtpError.unauthorized(
        'console_session_invalid',
        'The console session is not valid: sign in again',
      );
    const caller = await this.sessions.credentialsOf(token, req, http.getResponse<FastifyReply>());
    const scopes = consoleScopes(caller.scopes);
    if (!scopes.length || (await this.sessions.hasEnded(caller.credentialId)))
      throw AtpError.unauthorized('console_session_ended', 'The console session has ended: sign in again');
    if (!SAFE_METHODS.has(req.method)) {
      if (isCrossSite(req.headers))
        throw AtpError.forbidden('cross_site_request', 'Cross-site requests to the console are refused');
      if (!csrfTokenMatches(this.sessions.secret, caller.credentialId ?? '', req.headers[CSRF_HEADER]))
        throw AtpError.forbidden(
          'csrf_token_invalid',
          `The ${CSRF_HEADER} header is missing or does not match the session`,
        );
    }
    const platformAdmin = scopes.includes('platform:admin');
    const asked = (req.query as Record<string, unknown> | undefined)?.tenant;
    let tenantId = caller.tenantId;
    if (typeof asked === 'string' && asked !== '' && asked !== caller.tenantId) {
      if (!platformAdmin)
        throw AtpError.forbidden('tenant_forbidden', 'Only a platform admin can open another tenant');
      await this.tenants.getTenant(asked); // 404 for an unknown tenant
      tenantId = asked;
    }
    req.caller = caller;
    const exp = tokenClaims(token).exp ?? 0;
    req.consoleScope = { tenantId, caller, platformAdmin, token, expiresAt: new Date(exp * 1000) };
    return true;
  }
}

/** The {@link ConsoleScope} of a request that passed the {@link ConsoleGuard}. */
export const Console = createParamDecorator((_: unknown, ctx: ExecutionContext): ConsoleScope => {
  const scope = ctx.switchToHttp().getRequest<FastifyRequest>().consoleScope;
  if (!scope) throw new Error('@Console() used on a route without the ConsoleGuard');
  return scope;
});
