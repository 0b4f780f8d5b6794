import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AtpError, unavailableDependency } from '@app/common';
import { dependencyOutage } from '@app/observability';
import { API_KEY_STRATEGY, OIDC_STRATEGY, PLATFORM_JWT_STRATEGY } from './auth.constants';
import { OIDC_STRATEGY_TOKEN } from './auth.tokens';
import { classifyCredential, parseCredentialHeaders } from './bearer';
import { AuthErrors, tokenErrorFrom } from './errors';
import { type Caller, callerOf, type CredentialIdentity } from './caller';
import { ApiKeyStrategy } from './strategies/api-key.strategy';
import type { OidcStrategy } from './strategies/oidc.strategy';
import { AUTH_PASSPORT, setBearerCredential, type AppAuthenticator } from './strategies/passport-registry';
import { PlatformJwtStrategy } from './strategies/platform-jwt.strategy';

/**
 * Turns a request's credential (`Authorization: Bearer` or `x-api-key`) into a {@link Caller}: classify it (API key, platform
 * JWT, OIDC token), then run exactly one passport strategy for it on this app's AppAuthenticator.
 * Every failure is an AtpError: 401 with a stable code, or 503 when a dependency is down.
 */
@Injectable()
export class CredentialAuthenticator {
  private readonly logger = new Logger('Auth');

  constructor(
    @Inject(AUTH_PASSPORT) private readonly passport: AppAuthenticator,
    // Injected so they are constructed (and registered on the AppAuthenticator) before first use.
    _apiKeys: ApiKeyStrategy,
    _platformJwt: PlatformJwtStrategy,
    @Optional() @Inject(OIDC_STRATEGY_TOKEN) private readonly oidc: OidcStrategy | null,
  ) {}

  async authenticate(req: FastifyRequest, reply: FastifyReply): Promise<Caller> {
    const header = parseCredentialHeaders(req.headers);
    if (!header.ok) throw AuthErrors.headerProblem(header.reason);
    return this.authenticateCredential(header.credential, req, reply);
  }

  /**
   * Verifies a credential that did not come from a request header (the console's session cookie,
   * a key typed into the console's sign-in form) exactly as a bearer one.
   */
  async authenticateCredential(value: string, req: FastifyRequest, reply: FastifyReply): Promise<Caller> {
    return callerOf(await this.identify(value, req, reply), req);
  }

  private identify(value: string, req: FastifyRequest, reply: FastifyReply): Promise<CredentialIdentity> {
    const credential = classifyCredential(value);
    switch (credential.kind) {
      case 'invalid':
        throw AuthErrors.invalidToken(credential.reason);
      case 'api_key':
        setBearerCredential(req, credential.value);
        return this.run(API_KEY_STRATEGY, req, reply);
      case 'platform_jwt':
        setBearerCredential(req, credential.value);
        return this.run(PLATFORM_JWT_STRATEGY, req, reply);
      case 'oidc_jwt':
        if (!this.oidc)
          throw AuthErrors.invalidToken('OIDC tokens are not accepted: no OIDC issuer is configured');
        setBearerCredential(req, credential.value);
        return this.run(OIDC_STRATEGY, req, reply);
    }
  }

  private run(strategy: string, req: FastifyRequest, reply: FastifyReply): Promise<CredentialIdentity> {
    return new Promise<CredentialIdentity>((resolve, reject) => {
      const middleware = this.passport.authenticate(
        strategy,
        { session: false },
        (err: unknown, user: unknown, info: unknown) => {
          if (err) reject(err);
          else if (user) resolve(user as CredentialIdentity);
          else reject(info);
        },
      ) as (req: unknown, res: unknown, next: (err?: unknown) => void) => void;
      middleware(req, reply, (err?: unknown) =>
        reject(err ?? new Error(`passport strategy ${strategy} made no decision`)),
      );
    }).catch((err: unknown) => {
      throw this.toAuthError(err);
    });
  }

  private toAuthError(err: unknown): AtpError {
    if (err instanceof AtpError) return err;
    const name = (err as { name?: unknown } | null)?.name;
    if (name === 'TokenExpiredError' || name === 'NotBeforeError' || name === 'JsonWebTokenError')
      return tokenErrorFrom(err);
    // Anything else is ours or a dependency's (the database on a cache miss): never a 500, never
    // the details. A dependency outage is logged once by its reporter, not once per request.
    const dependency = unavailableDependency(err);
    if (dependency) {
      dependencyOutage(dependency).failed(err);
      return AuthErrors.unavailable('Credential verification', dependency);
    }
    this.logger.error(`credential verification failed: ${(err as Error)?.message ?? String(err)}`);
    return AuthErrors.unavailable('Credential verification');
  }
}
