import type { VerifyOptions } from 'jsonwebtoken';
import { CLOCK_TOLERANCE_SECONDS } from '../auth.constants';
import { OIDC_ALGORITHMS, PLATFORM_JWT_ALGORITHMS } from '../bearer';

export interface PlatformJwtSettings {
  secret: string;
  issuer?: string;
  audience?: string;
}

export interface OidcSettings {
  issuer: string;
  clientId: string;
  /** Not needed to verify tokens; kept for completeness of the mounted config. Never logged. */
  clientSecret?: string;
  tenantClaim: string;
  scopesClaim: string;
}

/** HS256 only, issuer/audience when configured, ±60 s skew. */
export function platformJwtVerifyOptions(s: PlatformJwtSettings): VerifyOptions {
  return {
    algorithms: [...PLATFORM_JWT_ALGORITHMS],
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    ...(s.issuer ? { issuer: s.issuer } : {}),
    ...(s.audience ? { audience: s.audience } : {}),
  };
}

/** The issuer as configured and with/without its trailing slash (IdPs differ; the origin is the same). */
export function issuerVariants(issuer: string): [string, string] {
  const bare = issuer.replace(/\/+$/, '');
  return [bare, `${bare}/`];
}

/** RS256/ES256 only, the issuer, audience = client id, ±60 s skew. */
export function oidcVerifyOptions(s: OidcSettings): VerifyOptions {
  return {
    algorithms: [...OIDC_ALGORITHMS],
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    issuer: issuerVariants(s.issuer),
    audience: s.clientId,
  };
}
