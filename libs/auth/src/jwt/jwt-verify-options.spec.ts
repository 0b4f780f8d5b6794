import { generateKeyPairSync } from 'node:crypto';
import { sign, verify } from 'jsonwebtoken';
import { issuerVariants, oidcVerifyOptions, platformJwtVerifyOptions } from './jwt-verify-options';

const SECRET = 'a-platform-secret-that-is-at-least-32-bytes';
const now = () => Math.floor(Date.now() / 1000);

describe('JWT verification options', () => {
  it('platform tokens: HS256 only, ±60 s, issuer/audience only when configured', () => {
    expect(platformJwtVerifyOptions({ secret: SECRET })).toEqual({
      algorithms: ['HS256'],
      clockTolerance: 60,
    });
    expect(platformJwtVerifyOptions({ secret: SECRET, issuer: 'i', audience: 'a' })).toEqual({
      algorithms: ['HS256'],
      clockTolerance: 60,
      issuer: 'i',
      audience: 'a',
    });
  });

  it('OIDC tokens: RS256/ES256 only, ±60 s, issuer (± trailing slash), audience = client id', () => {
    expect(
      oidcVerifyOptions({
        issuer: 'https://idp.example.com/',
        clientId: 'c',
        tenantClaim: 't',
        scopesClaim: 's',
      }),
    ).toEqual({
      algorithms: ['RS256', 'ES256'],
      clockTolerance: 60,
      issuer: ['https://idp.example.com', 'https://idp.example.com/'],
      audience: 'c',
    });
    expect(issuerVariants('https://a/b//')).toEqual(['https://a/b', 'https://a/b/']);
  });

  describe('as jsonwebtoken applies them', () => {
    const opts = platformJwtVerifyOptions({ secret: SECRET, issuer: 'atp', audience: 'api' });
    const token = (claims: object, secret: string = SECRET, algorithm: 'HS256' | 'HS384' = 'HS256') =>
      sign({ sub: 'x', iss: 'atp', aud: 'api', ...claims }, secret, { algorithm, noTimestamp: true });
    const check = (t: string) => {
      try {
        verify(t, SECRET, opts);
        return 'ok';
      } catch (err) {
        return (err as Error).name;
      }
    };

    it('allows 60 s of skew on exp and nbf, not more', () => {
      expect(check(token({ exp: now() - 30 }))).toBe('ok');
      expect(check(token({ exp: now() - 90 }))).toBe('TokenExpiredError');
      expect(check(token({ exp: now() + 60, nbf: now() + 30 }))).toBe('ok');
      expect(check(token({ exp: now() + 600, nbf: now() + 90 }))).toBe('NotBeforeError');
    });

    it('refuses another HMAC algorithm, alg none, a wrong issuer or audience', () => {
      expect(check(token({ exp: now() + 60 }, SECRET, 'HS384'))).toBe('JsonWebTokenError');
      const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'x', iss: 'atp', aud: 'api', exp: now() + 60 })).toString('base64url')}.`;
      expect(check(none)).toBe('JsonWebTokenError');
      expect(check(token({ exp: now() + 60, iss: 'other' }))).toBe('JsonWebTokenError');
      expect(check(token({ exp: now() + 60, aud: 'other' }))).toBe('JsonWebTokenError');
    });

    it('an OIDC public key never verifies an HS256 token (algorithm confusion)', () => {
      const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
      const forged = sign({ sub: 'x', iss: 'https://idp', aud: 'c', exp: now() + 60 }, pem, {
        algorithm: 'HS256',
      });
      const oidc = oidcVerifyOptions({
        issuer: 'https://idp',
        clientId: 'c',
        tenantClaim: 't',
        scopesClaim: 's',
      });
      expect(() => verify(forged, publicKey, oidc)).toThrow();
      expect(() => verify(forged, pem, oidc)).toThrow(/invalid algorithm/);
    });
  });
});
