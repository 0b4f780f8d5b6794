import { createHmac, randomUUID } from 'node:crypto';
import type { Scope } from '../scopes';

export interface PlatformTokenParams {
  secret: string;
  tenantId: string;
  scopes: readonly Scope[];
  subject: string;
  ttlSeconds: number;
  issuer?: string;
  audience?: string;
  /** Seconds since the epoch. */
  now?: number;
}

const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');

/**
 * A platform JWT (HS256, claims `sub`, `tenant_id`, `scope`, `iat`, `exp`, `jti`, plus `iss`/`aud`
 * when configured): what `npm run atp -- token` prints. Signed with node:crypto, verified by
 * passport-jwt.
 */
export function signPlatformToken(p: PlatformTokenParams): { token: string; expiresAt: Date; jti: string } {
  const iat = p.now ?? Math.floor(Date.now() / 1000);
  const exp = iat + p.ttlSeconds;
  const jti = randomUUID();
  const payload = {
    sub: p.subject,
    tenant_id: p.tenantId,
    scope: p.scopes.join(' '),
    iat,
    exp,
    jti,
    ...(p.issuer ? { iss: p.issuer } : {}),
    ...(p.audience ? { aud: p.audience } : {}),
  };
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
  const signature = createHmac('sha256', p.secret).update(input).digest('base64url');
  return { token: `${input}.${signature}`, expiresAt: new Date(exp * 1000), jti };
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
export const MAX_TOKEN_TTL_SECONDS = 366 * 86_400;

/**
 * `30s`, `15m`, `1h`, `7d` or plain seconds, at most a year.
 * @throws Error with a message for the CLI user
 */
export function parseTtl(value: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (!m) throw new Error(`invalid TTL "${value}": use e.g. 30s, 15m, 1h or 7d`);
  const seconds = Number(m[1]) * UNIT_SECONDS[m[2] || 's'];
  if (seconds <= 0) throw new Error('the TTL must be positive');
  if (seconds > MAX_TOKEN_TTL_SECONDS) throw new Error('the TTL must be at most 366 days');
  return seconds;
}
