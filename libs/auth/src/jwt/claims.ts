import { AuthErrors } from '../errors';
import { isUuid } from '../ids';
import { type Scope, scopesFromClaim } from '../scopes';

export interface TokenClaims {
  tenantId: string;
  subject: string;
  scopes: Scope[];
  jti: string | null;
}

/**
 * A claim by name: the exact top-level name first (`https://example.com/tenant` is one name),
 * else a dotted path into nested objects (`app_metadata.tenant_id`).
 */
export function claimValue(payload: Record<string, unknown>, name: string): unknown {
  if (name in payload) return payload[name];
  let cur: unknown = payload;
  for (const part of name.split('.')) {
    if (!cur || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/**
 * What a verified token says about its caller. A token without an expiry, a subject or a
 * tenant is refused: it could not be bounded, attributed or scoped to one tenant's data.
 * @throws AtpError 401 `invalid_token`
 */
export function claimsFromPayload(payload: unknown, tenantClaim: string, scopesClaim: string): TokenClaims {
  if (!payload || typeof payload !== 'object' || Array.isArray(payload))
    throw AuthErrors.invalidToken('The token payload is not a JSON object');
  const p = payload as Record<string, unknown>;
  if (typeof p.exp !== 'number') throw AuthErrors.invalidToken('The token has no exp claim');
  if (typeof p.sub !== 'string' || !p.sub) throw AuthErrors.invalidToken('The token has no sub claim');
  const tenant = claimValue(p, tenantClaim);
  if (typeof tenant !== 'string' || !tenant)
    throw AuthErrors.invalidToken(`The token has no ${tenantClaim} claim`);
  if (!isUuid(tenant)) throw AuthErrors.invalidToken(`The token's ${tenantClaim} claim is not a tenant id`);
  return {
    tenantId: tenant.toLowerCase(),
    subject: p.sub.slice(0, 255),
    scopes: scopesFromClaim(claimValue(p, scopesClaim)),
    jti: typeof p.jti === 'string' && p.jti ? p.jti.slice(0, 255) : null,
  };
}
