import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Scope } from '@app/auth';

/** The session cookie: a platform JWT, readable by the server only. */
export const SESSION_COOKIE = 'atp_console';
/** The header every mutating console call must carry (double-submit, bound to the session). */
export const CSRF_HEADER = 'x-csrf-token';
/** Sessions are short: a revoked key or removed scope stops working within this time at worst. */
export const SESSION_TTL_SECONDS = 3600;
/** Only these scopes go into a console session token, whatever else the credential held. */
export const CONSOLE_SCOPES: readonly Scope[] = ['admin', 'platform:admin'];

/** The scopes a console session carries; empty when the credential may not use the console. */
export function consoleScopes(scopes: readonly Scope[]): Scope[] {
  return CONSOLE_SCOPES.filter((s) => scopes.includes(s));
}

/**
 * The CSRF token of a session: an HMAC of the session token's id under the platform secret. A
 * cross-site page cannot read it (it comes in a JSON body the same-origin policy hides, never in a
 * cookie), and it cannot be forged without the secret.
 */
export function csrfTokenFor(secret: string, sessionId: string): string {
  return createHmac('sha256', secret).update(`atp-console-csrf:${sessionId}`).digest('base64url');
}

export function csrfTokenMatches(secret: string, sessionId: string, presented: unknown): boolean {
  if (typeof presented !== 'string' || presented.length > 128) return false;
  const expected = Buffer.from(csrfTokenFor(secret, sessionId));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** One cookie's value from a Cookie header (no library: one name, no attributes to parse). */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return value === '' ? null : value;
    }
  }
  return null;
}

/**
 * Set-Cookie for the session: HttpOnly (no script reads it), SameSite=Strict (no cross-site request
 * carries it), Secure when the console is served over https, scoped to /console (the /v1 API never
 * sees it: there only the Authorization header counts). `value` null clears it.
 */
export function sessionCookie(
  value: string | null,
  secure: boolean,
  maxAgeSeconds = SESSION_TTL_SECONDS,
): string {
  const attrs = [
    `${SESSION_COOKIE}=${value ?? ''}`,
    'Path=/console',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${value ? maxAgeSeconds : 0}`,
  ];
  if (secure) attrs.push('Secure');
  return attrs.join('; ');
}

/** The claims of a session token the console reads without verifying (after the guard has). */
export function tokenClaims(token: string): { jti?: string; exp?: number } {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      jti?: string;
      exp?: number;
    };
  } catch {
    return {};
  }
}

/**
 * A cross-site request is refused before anything else: `Sec-Fetch-Site: cross-site` (every
 * current browser sends it) or an Origin whose host is not the one the request was sent to.
 */
export function isCrossSite(headers: Record<string, string | string[] | undefined>): boolean {
  const site = headers['sec-fetch-site'];
  if (site === 'cross-site') return true;
  const origin = headers.origin;
  if (typeof origin !== 'string' || origin === '' || origin === 'null') return origin === 'null';
  const host = headers['x-forwarded-host'] ?? headers.host;
  try {
    return new URL(origin).host !== (Array.isArray(host) ? host[0] : host);
  } catch {
    return true;
  }
}
