import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  AUTH_SETTINGS,
  type AuthSettings,
  CredentialAuthenticator,
  type Caller,
  signPlatformToken,
  TenantService,
} from '@app/auth';
import { KV_STORE, type KvStore } from '@app/cache';
import { AtpError } from '@app/common';
import {
  consoleScopes,
  csrfTokenFor,
  SESSION_TTL_SECONDS,
  sessionCookie,
  tokenClaims,
} from './console-session';

export interface ConsoleSessionDto {
  tenant_id: string;
  tenant_name: string;
  subject: string;
  scopes: string[];
  expires_at: string;
  csrf_token: string;
}

const ENDED_PREFIX = 'console:ended:';

/**
 * Console sessions: a credential (an admin API key, or the ID token of an OIDC sign-in) is
 * verified once and exchanged for a short-lived platform JWT that lives only in an HttpOnly
 * cookie. Signing out records the token id as ended (in Redis when configured, so every replica
 * refuses it) until the token would have expired anyway.
 */
@Injectable()
export class ConsoleSessionService {
  constructor(
    private readonly credentials: CredentialAuthenticator,
    private readonly tenants: TenantService,
    @Inject(AUTH_SETTINGS) private readonly settings: AuthSettings,
    @Inject(KV_STORE) private readonly kv: KvStore,
  ) {}

  /** Verifies an API key typed into the sign-in form. @throws AtpError 400/401/403 */
  async callerFromApiKey(apiKey: unknown, req: FastifyRequest, reply: FastifyReply): Promise<Caller> {
    if (typeof apiKey !== 'string' || !apiKey.startsWith('atp_') || apiKey.length > 512)
      throw AtpError.badRequest('invalid_request', 'Enter an ATP API key (it starts with atp_)', 'api_key');
    return this.credentials.authenticateCredential(apiKey.trim(), req, reply);
  }

  /** Mints the session token, sets the cookie, and returns what the page may know. */
  async open(caller: Caller, req: FastifyRequest, reply: FastifyReply): Promise<ConsoleSessionDto> {
    if (!consoleScopes(caller.scopes).length)
      throw AtpError.forbidden(
        'console_forbidden',
        'The console needs a credential with the "admin" or "platform:admin" scope',
      );
    const { secret, issuer, audience } = this.settings.platformJwt;
    const { token, expiresAt, jti } = signPlatformToken({
      secret,
      issuer,
      audience,
      tenantId: caller.tenantId,
      // All of the credential's scopes: creating a key checks that the creator holds what it grants.
      // The token never leaves the HttpOnly cookie, and only /console/api reads that cookie.
      scopes: caller.scopes,
      subject: caller.subject,
      ttlSeconds: SESSION_TTL_SECONDS,
    });
    reply.header('set-cookie', sessionCookie(token, req.protocol === 'https'));
    return this.describe({ ...caller, credentialId: jti }, expiresAt);
  }

  /** The signed-in session as the page sees it (the CSRF token included; never the cookie). */
  async describe(caller: Caller, expiresAt: Date): Promise<ConsoleSessionDto> {
    const tenant = await this.tenants.getTenant(caller.tenantId);
    return {
      tenant_id: caller.tenantId,
      tenant_name: tenant.name,
      subject: caller.subject,
      scopes: [...caller.scopes],
      expires_at: expiresAt.toISOString(),
      csrf_token: csrfTokenFor(this.settings.platformJwt.secret, caller.credentialId ?? ''),
    };
  }

  /** Verifies a session token exactly as a bearer platform JWT (signature, expiry, tenant). */
  credentialsOf(token: string, req: FastifyRequest, reply: FastifyReply): Promise<Caller> {
    return this.credentials.authenticateCredential(token, req, reply);
  }

  async close(token: string, req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const { jti, exp } = tokenClaims(token);
    const ttlMs = exp ? exp * 1000 - Date.now() + 60_000 : SESSION_TTL_SECONDS * 1000;
    if (jti && ttlMs > 0) await this.kv.set(ENDED_PREFIX + jti, '1', ttlMs);
    reply.header('set-cookie', sessionCookie(null, req.protocol === 'https'));
  }

  async hasEnded(jti: string | null): Promise<boolean> {
    return jti ? (await this.kv.get(ENDED_PREFIX + jti)) !== null : false;
  }

  get secret(): string {
    return this.settings.platformJwt.secret;
  }
}
