import type { KeyObject } from 'node:crypto';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy as JwtStrategy } from 'passport-jwt';
import { OIDC_STRATEGY } from '../auth.constants';
import { decodeJwtHeader, type OidcAlgorithm } from '../bearer';
import { AuthErrors } from '../errors';
import { claimsFromPayload } from '../jwt/claims';
import { type OidcSettings, oidcVerifyOptions } from '../jwt/jwt-verify-options';
import type { OidcKeySet } from '../oidc/oidc-key-set';
import type { CredentialIdentity } from '../caller';
import type { TenantDirectory } from '../tenants/tenant-directory';
import {
  bearerCredentialOf,
  DETACHED_REGISTRY,
  type AppAuthenticator,
  type DetachedRegistry,
} from './passport-registry';

/**
 * OIDC access/ID tokens (passport-jwt): RS256/ES256 only, key from the issuer's JWKS by `kid`,
 * audience = client id, tenant and scopes from the configured claims. Created only when OIDC is
 * configured (AuthModule).
 */
export class OidcStrategy extends PassportStrategy(JwtStrategy, OIDC_STRATEGY) {
  constructor(
    passport: AppAuthenticator,
    private readonly settings: OidcSettings,
    keys: OidcKeySet,
    private readonly tenants: TenantDirectory,
  ) {
    const { algorithms, issuer, audience, ...rest } = oidcVerifyOptions(settings);
    super({
      jwtFromRequest: bearerCredentialOf,
      // The header is read only to pick a key from the issuer's own JWKS; its alg was checked
      // against the OIDC list before routing here, and jsonwebtoken checks it against the key.
      secretOrKeyProvider: (_req: unknown, token: string, done: (err: unknown, key?: KeyObject) => void) => {
        const header = decodeJwtHeader(token);
        const kid = typeof header?.kid === 'string' ? header.kid : undefined;
        keys.keyFor(kid, header?.alg as OidcAlgorithm).then(
          (key) => done(null, key),
          (err: unknown) => done(err),
        );
      },
      algorithms,
      issuer: issuer as string[],
      audience: audience as string,
      jsonWebTokenOptions: rest,
    } as ConstructorParameters<typeof JwtStrategy>[0]);
    passport.use(OIDC_STRATEGY, this);
  }

  async validate(payload: unknown): Promise<CredentialIdentity> {
    const claims = claimsFromPayload(payload, this.settings.tenantClaim, this.settings.scopesClaim);
    if (!(await this.tenants.exists(claims.tenantId)))
      throw AuthErrors.invalidToken("The token's tenant does not exist");
    return {
      tenantId: claims.tenantId,
      subject: claims.subject,
      scopes: claims.scopes,
      credentialId: claims.jti,
      type: 'oidc',
      keyLimits: null,
    };
  }

  getPassportInstance(): DetachedRegistry {
    return DETACHED_REGISTRY;
  }
}
