import { API_KEY_PREFIX } from './api-keys/api-key.format';

/** Longer credentials are refused unread (a JWT from a real IdP is a few KB at most). */
export const MAX_CREDENTIAL_LENGTH = 8192;

export type HeaderParse = { ok: true; credential: string } | { ok: false; reason: 'missing' | 'malformed' };

export type CredentialParse =
  | { ok: true; credential: string }
  | { ok: false; reason: 'missing' | 'malformed' | 'malformed_x_api_key' | 'conflict' };

/**
 * `Authorization: Bearer <credential>` (scheme case-insensitive, RFC 6750). A missing header and
 * one that is present but unusable are told apart, so clients get an actionable message.
 */
export function parseAuthorizationHeader(header: string | string[] | undefined): HeaderParse {
  if (header === undefined || header === '') return { ok: false, reason: 'missing' };
  if (Array.isArray(header)) return { ok: false, reason: 'malformed' };
  const m = /^\s*Bearer +([^\s]+)\s*$/i.exec(header);
  if (!m || m[1].length > MAX_CREDENTIAL_LENGTH) return { ok: false, reason: 'malformed' };
  return { ok: true, credential: m[1] };
}

/** `x-api-key: <credential>` (the Anthropic SDKs' header): one token, nothing else. */
export function parseXApiKeyHeader(header: string | string[] | undefined): HeaderParse {
  if (header === undefined || header === '') return { ok: false, reason: 'missing' };
  if (Array.isArray(header)) return { ok: false, reason: 'malformed' };
  const value = header.trim();
  if (!/^[^\s]+$/.test(value) || value.length > MAX_CREDENTIAL_LENGTH)
    return { ok: false, reason: 'malformed' };
  return { ok: true, credential: value };
}

/**
 * The request's credential: `Authorization: Bearer <credential>` or `x-api-key: <credential>`.
 * Both may be sent (some tools do) only when they carry the same credential: two different ones
 * would leave the caller ambiguous, so that is refused rather than one silently winning.
 */
export function parseCredentialHeaders(headers: {
  authorization?: string | string[];
  'x-api-key'?: string | string[];
}): CredentialParse {
  const bearer = parseAuthorizationHeader(headers.authorization);
  const xApiKey = parseXApiKeyHeader(headers['x-api-key']);
  if (!xApiKey.ok && xApiKey.reason === 'missing') return bearer;
  if (!xApiKey.ok) return { ok: false, reason: 'malformed_x_api_key' };
  if (!bearer.ok && bearer.reason === 'missing') return xApiKey;
  if (!bearer.ok) return bearer;
  return bearer.credential === xApiKey.credential ? bearer : { ok: false, reason: 'conflict' };
}

export interface JwtHeader {
  alg?: unknown;
  kid?: unknown;
  typ?: unknown;
  crit?: unknown;
  [k: string]: unknown;
}

/** Algorithms by credential type: each verifier pins its own list, the header only routes. */
export const PLATFORM_JWT_ALGORITHMS = ['HS256'] as const;
export const OIDC_ALGORITHMS = ['RS256', 'ES256'] as const;
export type OidcAlgorithm = (typeof OIDC_ALGORITHMS)[number];

export type Credential =
  | { kind: 'api_key'; value: string }
  | { kind: 'platform_jwt'; value: string; header: JwtHeader }
  | { kind: 'oidc_jwt'; value: string; header: JwtHeader; alg: OidcAlgorithm }
  | { kind: 'invalid'; reason: string };

const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Decodes a compact JWS header without trusting it. Null when it is not a JSON object. */
export function decodeJwtHeader(token: string): JwtHeader | null {
  const dot = token.indexOf('.');
  if (dot <= 0) return null;
  try {
    const header: unknown = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8'));
    return header && typeof header === 'object' && !Array.isArray(header) ? (header as JwtHeader) : null;
  } catch {
    return null;
  }
}

/**
 * Decides which verifier a bearer credential goes to. Reading the (unverified) `alg` is safe
 * because it only routes: an HS256 token can only reach the HS256 verifier (platform secret),
 * an RS256/ES256 token only the OIDC verifier (issuer's JWKS), each with its algorithm list
 * pinned. Everything else (`none`, HS384, a `crit` extension we do not implement, garbage) stops
 * here. `jku`, `x5u`, `jwk` and `x5c` header fields are never consulted by any verifier.
 */
export function classifyCredential(value: string): Credential {
  if (value.startsWith(API_KEY_PREFIX)) return { kind: 'api_key', value };
  if (!JWS_COMPACT.test(value))
    return { kind: 'invalid', reason: 'The bearer credential is neither an ATP API key (atp_…) nor a JWT' };
  const header = decodeJwtHeader(value);
  if (!header) return { kind: 'invalid', reason: 'The token header is not valid base64url JSON' };
  if (header.crit !== undefined)
    return { kind: 'invalid', reason: 'The token uses critical header extensions, which are not supported' };
  const alg = header.alg;
  if (alg === 'HS256') return { kind: 'platform_jwt', value, header };
  if (alg === 'RS256' || alg === 'ES256') return { kind: 'oidc_jwt', value, header, alg };
  return {
    kind: 'invalid',
    reason: `Token algorithm ${typeof alg === 'string' ? `"${alg.slice(0, 16)}"` : '(none)'} is not accepted (HS256 for platform tokens, RS256/ES256 for OIDC tokens)`,
  };
}
