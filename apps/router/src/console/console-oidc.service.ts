import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AUTH_SETTINGS, type AuthSettings, CredentialAuthenticator, type Caller } from '@app/auth';
import { KV_STORE, type KvStore } from '@app/cache';
import { AtpError } from '@app/common';
import { tokenClaims } from './console-session';

/** The short-lived cookie binding an authorization request to the browser that started it. */
export const OIDC_STATE_COOKIE = 'atp_console_oidc';
const STATE_TTL_MS = 10 * 60_000;
const DISCOVERY_TTL_MS = 5 * 60_000;
const HTTP_TIMEOUT_MS = 5000;

interface Endpoints {
  authorization: string;
  token: string;
  at: number;
}

interface PendingLogin {
  verifier: string;
  nonce: string;
  redirectUri: string;
}

const b64url = (buf: Buffer) => buf.toString('base64url');

/** RFC 7636 S256: the challenge is the SHA-256 of the verifier, base64url. */
export function pkceChallenge(verifier: string): string {
  return b64url(createHash('sha256').update(verifier).digest());
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Console sign-in with the company's OIDC provider: authorization code flow with PKCE (S256),
 * `state` bound to the browser by an HttpOnly cookie and kept server-side (one use, 10 minutes),
 * and a `nonce` checked in the ID token. The ID token is verified exactly as a bearer OIDC token
 * (issuer's JWKS, audience = OIDC_CLIENT_ID, tenant and scopes from the configured claims).
 */
@Injectable()
export class ConsoleOidcService {
  private readonly logger = new Logger('ConsoleOidc');
  private endpoints: Endpoints | null = null;

  constructor(
    @Inject(AUTH_SETTINGS) private readonly settings: AuthSettings,
    @Inject(KV_STORE) private readonly kv: KvStore,
    private readonly credentials: CredentialAuthenticator,
  ) {}

  get enabled(): boolean {
    return this.settings.oidc !== null;
  }

  /** Where to send the browser, and the state cookie's value. */
  async begin(redirectUri: string): Promise<{ url: string; state: string }> {
    const oidc = this.settings.oidc;
    if (!oidc)
      throw AtpError.notFound(
        'oidc_not_configured',
        'OIDC sign-in is not configured on this router (OIDC_ISSUER_URL)',
      );
    const endpoints = await this.discover(oidc.issuer);
    const state = b64url(randomBytes(32));
    const pending: PendingLogin = {
      verifier: b64url(randomBytes(48)),
      nonce: b64url(randomBytes(24)),
      redirectUri,
    };
    await this.kv.set(`console:oidc:${state}`, JSON.stringify(pending), STATE_TTL_MS);
    const url = new URL(endpoints.authorization);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', oidc.clientId);
    url.searchParams.set('redirect_uri', redirectUri);
    url.searchParams.set('scope', 'openid profile email');
    url.searchParams.set('state', state);
    url.searchParams.set('nonce', pending.nonce);
    url.searchParams.set('code_challenge', pkceChallenge(pending.verifier));
    url.searchParams.set('code_challenge_method', 'S256');
    return { url: url.toString(), state };
  }

  /**
   * The provider's redirect back: checks state against the cookie and the stored request, redeems
   * the code with the PKCE verifier, verifies the ID token and its nonce.
   * @throws AtpError with a code the sign-in page explains
   */
  async complete(
    q: { code?: string; state?: string; error?: string },
    cookieState: string | null,
    req: FastifyRequest,
    reply: FastifyReply,
  ): Promise<Caller> {
    const oidc = this.settings.oidc;
    if (!oidc)
      throw AtpError.notFound('oidc_not_configured', 'OIDC sign-in is not configured on this router');
    if (q.error) throw AtpError.unauthorized('oidc_denied', 'The identity provider did not sign you in');
    if (!q.code || !q.state || !cookieState || !sameText(q.state, cookieState))
      throw AtpError.unauthorized(
        'oidc_state_mismatch',
        'The sign-in did not start in this browser: try again',
      );
    const key = `console:oidc:${q.state}`;
    const raw = await this.kv.get(key);
    await this.kv.del(key);
    if (!raw)
      throw AtpError.unauthorized(
        'oidc_state_expired',
        'The sign-in took too long or was already used: try again',
      );
    const pending = JSON.parse(raw) as PendingLogin;
    const endpoints = await this.discover(oidc.issuer);
    const body = new URLSearchParams({
      grant_type: 'authorization_code',
      code: q.code,
      redirect_uri: pending.redirectUri,
      client_id: oidc.clientId,
      code_verifier: pending.verifier,
    });
    if (oidc.clientSecret) body.set('client_secret', oidc.clientSecret);
    let tokens: { id_token?: unknown };
    try {
      const res = await fetch(endpoints.token, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
      });
      if (!res.ok) throw new Error(`token endpoint answered ${res.status}`);
      tokens = (await res.json()) as { id_token?: unknown };
    } catch (err) {
      this.logger.warn(`OIDC code exchange failed: ${(err as Error).message}`);
      throw AtpError.unauthorized(
        'oidc_exchange_failed',
        'The identity provider did not accept the sign-in: try again',
      );
    }
    if (typeof tokens.id_token !== 'string')
      throw AtpError.unauthorized('oidc_exchange_failed', 'The identity provider returned no ID token');
    const caller = await this.credentials.authenticateCredential(tokens.id_token, req, reply);
    const nonce = (tokenClaims(tokens.id_token) as { nonce?: unknown }).nonce;
    if (typeof nonce !== 'string' || !sameText(nonce, pending.nonce))
      throw AtpError.unauthorized('oidc_nonce_mismatch', 'The ID token does not belong to this sign-in');
    return caller;
  }

  private async discover(issuer: string): Promise<Endpoints> {
    if (this.endpoints && Date.now() - this.endpoints.at < DISCOVERY_TTL_MS) return this.endpoints;
    try {
      const res = await fetch(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, {
        signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
      });
      if (!res.ok) throw new Error(`discovery answered ${res.status}`);
      const doc = (await res.json()) as { authorization_endpoint?: unknown; token_endpoint?: unknown };
      if (typeof doc.authorization_endpoint !== 'string' || typeof doc.token_endpoint !== 'string')
        throw new Error('discovery has no authorization_endpoint or token_endpoint');
      this.endpoints = {
        authorization: doc.authorization_endpoint,
        token: doc.token_endpoint,
        at: Date.now(),
      };
      return this.endpoints;
    } catch (err) {
      this.logger.warn(`OIDC discovery failed: ${(err as Error).message}`);
      throw AtpError.unavailable(
        'oidc_unavailable',
        'The identity provider cannot be reached: try again shortly',
      );
    }
  }
}
