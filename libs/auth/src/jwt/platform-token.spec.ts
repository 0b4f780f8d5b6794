import { verify } from 'jsonwebtoken';
import { MAX_TOKEN_TTL_SECONDS, parseTtl, signPlatformToken } from './platform-token';

describe('platform tokens', () => {
  it('are HS256 JWTs with sub, tenant_id, scope, iat, exp, jti (and iss/aud when given)', () => {
    const { token, expiresAt, jti } = signPlatformToken({
      secret: 's'.repeat(32),
      tenantId: 't1',
      scopes: ['llm', 'admin'],
      subject: 'alice',
      ttlSeconds: 3600,
      issuer: 'atp',
      audience: 'api',
      now: 1_700_000_000,
    });
    const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT' });
    const payload = verify(token, 's'.repeat(32), {
      algorithms: ['HS256'],
      issuer: 'atp',
      audience: 'api',
      clockTimestamp: 1_700_000_100,
    });
    expect(payload).toEqual({
      sub: 'alice',
      tenant_id: 't1',
      scope: 'llm admin',
      iat: 1_700_000_000,
      exp: 1_700_003_600,
      jti,
      iss: 'atp',
      aud: 'api',
    });
    expect(expiresAt.toISOString()).toBe(new Date(1_700_003_600_000).toISOString());
  });

  it('leave out iss/aud when not configured', () => {
    const { token } = signPlatformToken({
      secret: 'k'.repeat(32),
      tenantId: 't',
      scopes: ['llm'],
      subject: 's',
      ttlSeconds: 60,
    });
    const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    expect(payload.iss).toBeUndefined();
    expect(payload.aud).toBeUndefined();
  });
});

describe('parseTtl', () => {
  it.each([
    ['30s', 30],
    ['15m', 900],
    ['1h', 3600],
    ['7d', 604_800],
    ['45', 45],
  ])('%s → %i s', (v, s) => expect(parseTtl(v)).toBe(s));

  it.each(['', '0s', '1w', '-5m', '1.5h', 'forever', `${MAX_TOKEN_TTL_SECONDS + 1}`])('refuses %j', (v) => {
    expect(() => parseTtl(v)).toThrow();
  });
});
