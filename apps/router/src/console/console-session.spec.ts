import {
  consoleScopes,
  csrfTokenFor,
  csrfTokenMatches,
  isCrossSite,
  readCookie,
  sessionCookie,
} from './console-session';

describe('console session helpers', () => {
  it('keeps only admin scopes as console scopes', () => {
    expect(consoleScopes(['llm', 'admin', 'audit:read'])).toEqual(['admin']);
    expect(consoleScopes(['llm'])).toEqual([]);
    expect(consoleScopes(['platform:admin', 'admin'])).toEqual(['admin', 'platform:admin']);
  });

  it('binds the CSRF token to the session id and the secret', () => {
    const token = csrfTokenFor('secret-a', 'jti-1');
    expect(csrfTokenMatches('secret-a', 'jti-1', token)).toBe(true);
    expect(csrfTokenMatches('secret-a', 'jti-2', token)).toBe(false);
    expect(csrfTokenMatches('secret-b', 'jti-1', token)).toBe(false);
    expect(csrfTokenMatches('secret-a', 'jti-1', undefined)).toBe(false);
    expect(csrfTokenMatches('secret-a', 'jti-1', [token])).toBe(false);
    expect(csrfTokenMatches('secret-a', 'jti-1', token.slice(1))).toBe(false);
  });

  it('reads one cookie out of a Cookie header', () => {
    expect(readCookie('a=1; atp_console=tok.en.x; b=2', 'atp_console')).toBe('tok.en.x');
    expect(readCookie('xatp_console=1', 'atp_console')).toBeNull();
    expect(readCookie('atp_console=', 'atp_console')).toBeNull();
    expect(readCookie(undefined, 'atp_console')).toBeNull();
  });

  it('sets HttpOnly, SameSite=Strict, Path=/console, Secure only over https; clears with Max-Age=0', () => {
    expect(sessionCookie('t', false)).toBe(
      'atp_console=t; Path=/console; HttpOnly; SameSite=Strict; Max-Age=3600',
    );
    expect(sessionCookie('t', true)).toMatch(/; Secure$/);
    expect(sessionCookie(null, false)).toBe(
      'atp_console=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0',
    );
  });

  it('tells cross-site requests apart from same-origin ones', () => {
    expect(isCrossSite({ host: 'atp.example:8080', origin: 'http://atp.example:8080' })).toBe(false);
    expect(isCrossSite({ host: 'atp.example:8080' })).toBe(false);
    expect(isCrossSite({ host: 'atp.example:8080', origin: 'https://evil.example' })).toBe(true);
    expect(isCrossSite({ host: 'atp.example', origin: 'null' })).toBe(true);
    expect(isCrossSite({ host: 'atp.example', 'sec-fetch-site': 'cross-site' })).toBe(true);
    expect(
      isCrossSite({ host: 'atp.example', 'sec-fetch-site': 'same-origin', origin: 'http://atp.example' }),
    ).toBe(false);
    expect(isCrossSite({ host: 'atp.example', origin: 'not a url' })).toBe(true);
  });
});
