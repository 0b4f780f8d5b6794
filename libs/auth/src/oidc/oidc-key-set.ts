import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { isAllowedOidcUrl } from '../auth-settings';
import type { OidcAlgorithm } from '../bearer';
import { AuthErrors } from '../errors';
import { issuerVariants } from '../jwt/jwt-verify-options';

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** After a JWKS fetch, an unknown `kid` triggers another at most this often. */
export const JWKS_REFETCH_COOLDOWN_MS = 30_000;
/** Keys are refreshed this often even when every `kid` is known (removed keys stop working). */
export const JWKS_MAX_AGE_MS = 10 * 60_000;
/** After a failed fetch, requests fail fast for this long instead of hammering a down IdP. */
const FAILURE_BACKOFF_MS = 5_000;
const DISCOVERY_MAX_AGE_MS = 60 * 60_000;
const FETCH_TIMEOUT_MS = 5_000;
const MAX_DOCUMENT_BYTES = 512 * 1024;
const MAX_KEYS = 100;
const MIN_RSA_BITS = 2048;

interface VerificationKey {
  kid: string | undefined;
  alg: OidcAlgorithm;
  key: KeyObject;
}

/** A JWK usable for one of our algorithms, or null (encryption keys, `oct`, weak or odd keys). */
export function verificationKeyFromJwk(jwk: Record<string, unknown>): VerificationKey | null {
  if (jwk.use !== undefined && jwk.use !== 'sig') return null;
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify')))
    return null;
  const kid = typeof jwk.kid === 'string' ? jwk.kid : undefined;
  let alg: OidcAlgorithm;
  if (jwk.kty === 'RSA' && (jwk.alg === undefined || jwk.alg === 'RS256')) alg = 'RS256';
  else if (jwk.kty === 'EC' && jwk.crv === 'P-256' && (jwk.alg === undefined || jwk.alg === 'ES256'))
    alg = 'ES256';
  else return null;
  const publicOnly =
    alg === 'RS256' ? { kty: 'RSA', n: jwk.n, e: jwk.e } : { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
  let key: KeyObject;
  try {
    key = createPublicKey({ key: publicOnly as JsonWebKey, format: 'jwk' });
  } catch {
    return null;
  }
  if (alg === 'RS256' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) return null;
  return { kid, alg, key };
}

/**
 * The OIDC issuer's signing keys: discovery (`/.well-known/openid-configuration`) then JWKS,
 * fetched lazily, cached, refetched on an unknown `kid` at most once per
 * {@link JWKS_REFETCH_COOLDOWN_MS}. Keys come only from the discovered `jwks_uri`; a token's
 * `jku`, `x5u`, `jwk` or `x5c` header is never looked at. (jose's createRemoteJWKSet does the same
 * job but is ESM-only, which the test runner cannot load without a config change.)
 */
export class OidcKeySet {
  private readonly logger = new Logger('OidcKeys');
  private jwksUri: string | null = null;
  private discoveredAt = Number.NEGATIVE_INFINITY;
  private keys: VerificationKey[] = [];
  /** null until the first successful fetch. */
  private fetchedAt: number | null = null;
  private failedAt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<void> | null = null;
  /** How many JWKS documents were fetched (tests and metrics). */
  fetchCount = 0;

  constructor(
    private readonly issuer: string,
    private readonly now: () => number,
    private readonly fetchFn: FetchLike = (url, init) => fetch(url, init),
  ) {}

  /**
   * The key to verify a token signed with `alg` whose header names `kid`.
   * @throws AtpError 401 `invalid_token` (no such key), 503 `auth_unavailable` (issuer unreachable)
   */
  async keyFor(kid: string | undefined, alg: OidcAlgorithm): Promise<KeyObject> {
    const now = this.now();
    if (this.fetchedAt === null || now - this.fetchedAt >= JWKS_MAX_AGE_MS)
      await this.refresh(this.fetchedAt === null);
    let key = this.find(kid, alg);
    if (!key && this.fetchedAt !== null && now - this.fetchedAt >= JWKS_REFETCH_COOLDOWN_MS) {
      await this.refresh(false);
      key = this.find(kid, alg);
    }
    if (!key) {
      throw AuthErrors.invalidToken(
        kid === undefined
          ? "The token has no kid and the issuer's JWKS has no single matching key"
          : "The token's signing key (kid) is not in the issuer's JWKS",
      );
    }
    return key.key;
  }

  private find(kid: string | undefined, alg: OidcAlgorithm): VerificationKey | undefined {
    const candidates = this.keys.filter((k) => k.alg === alg);
    if (kid !== undefined) return candidates.find((k) => k.kid === kid);
    return candidates.length === 1 ? candidates[0] : undefined;
  }

  /** One fetch at a time; `required`: without keys at all a failure is a 503, else stale keys serve. */
  private async refresh(required: boolean): Promise<void> {
    if (this.now() - this.failedAt < FAILURE_BACKOFF_MS) {
      if (required || !this.keys.length) throw AuthErrors.unavailable('The OIDC issuer');
      return;
    }
    this.inflight ??= this.fetchKeys().finally(() => (this.inflight = null));
    try {
      await this.inflight;
    } catch (err) {
      this.failedAt = this.now();
      this.logger.warn(`OIDC keys could not be fetched from ${this.issuer}: ${(err as Error).message}`);
      if (required || !this.keys.length) throw AuthErrors.unavailable('The OIDC issuer');
    }
  }

  private async fetchKeys(): Promise<void> {
    if (!this.jwksUri || this.now() - this.discoveredAt >= DISCOVERY_MAX_AGE_MS) {
      this.jwksUri = await this.discover();
      this.discoveredAt = this.now();
    }
    const doc = await this.getJson(this.jwksUri);
    const list = (doc as { keys?: unknown }).keys;
    if (!Array.isArray(list)) throw new Error('the JWKS has no "keys" array');
    this.keys = list
      .slice(0, MAX_KEYS)
      .filter((k): k is Record<string, unknown> => !!k && typeof k === 'object')
      .map(verificationKeyFromJwk)
      .filter((k): k is VerificationKey => k !== null);
    this.fetchedAt = this.now();
    this.fetchCount++;
  }

  private async discover(): Promise<string> {
    const [bare] = issuerVariants(this.issuer);
    const doc = (await this.getJson(`${bare}/.well-known/openid-configuration`)) as {
      issuer?: unknown;
      jwks_uri?: unknown;
    };
    if (typeof doc.issuer !== 'string' || !issuerVariants(this.issuer).includes(doc.issuer)) {
      throw new Error('the discovery document names a different issuer');
    }
    if (typeof doc.jwks_uri !== 'string' || !isAllowedOidcUrl(doc.jwks_uri)) {
      throw new Error('the discovery document has no usable jwks_uri (https://, or http:// on loopback)');
    }
    return doc.jwks_uri;
  }

  private async getJson(url: string): Promise<unknown> {
    const res = await this.fetchFn(url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (declared > MAX_DOCUMENT_BYTES) throw new Error(`${url} is too large`);
    const text = await res.text();
    if (text.length > MAX_DOCUMENT_BYTES) throw new Error(`${url} is too large`);
    try {
      const json: unknown = JSON.parse(text);
      if (!json || typeof json !== 'object') throw new Error('not an object');
      return json;
    } catch {
      throw new Error(`${url} did not return a JSON object`);
    }
  }
}
