import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy as JwtStrategy } from 'passport-jwt';
import { PLATFORM_JWT_STRATEGY } from '../auth.constants';
import { AUTH_SETTINGS } from '../auth.tokens';
import type { AuthSettings } from '../auth-settings';
import { AuthErrors } from '../errors';
import { claimsFromPayload } from '../jwt/claims';
import { platformJwtVerifyOptions } from '../jwt/jwt-verify-options';
import type { CredentialIdentity } from '../caller';
import { TenantDirectory } from '../tenants/tenant-directory';
import {
  AUTH_PASSPORT,
  bearerCredentialOf,
  DETACHED_REGISTRY,
  type AppAuthenticator,
  type DetachedRegistry,
} from './passport-registry';

/** Platform JWTs: HS256 with JWT_SECRET_KEY (passport-jwt), claims `sub`, `tenant_id`, `scope`. */
@Injectable()
export class PlatformJwtStrategy extends PassportStrategy(JwtStrategy, PLATFORM_JWT_STRATEGY) {
  constructor(
    @Inject(AUTH_PASSPORT) passport: AppAuthenticator,
    @Inject(AUTH_SETTINGS) settings: AuthSettings,
    private readonly tenants: TenantDirectory,
  ) {
    const { algorithms, issuer, audience, ...rest } = platformJwtVerifyOptions(settings.platformJwt);
    super({
      jwtFromRequest: bearerCredentialOf,
      secretOrKey: settings.platformJwt.secret,
      algorithms,
      issuer: issuer as string | undefined,
      audience: audience as string | undefined,
      jsonWebTokenOptions: rest,
    });
    passport.use(PLATFORM_JWT_STRATEGY, this);
  }

  async validate(payload: unknown): Promise<CredentialIdentity> {
    const claims = claimsFromPayload(payload, 'tenant_id', 'scope');
    if (!(await this.tenants.exists(claims.tenantId)))
      throw AuthErrors.invalidToken("The token's tenant does not exist");
    return {
      tenantId: claims.tenantId,
      subject: claims.subject,
      scopes: claims.scopes,
      credentialId: claims.jti,
      type: 'platform_jwt',
      keyLimits: null,
    };
  }

  getPassportInstance(): DetachedRegistry {
    return DETACHED_REGISTRY;
  }
}
