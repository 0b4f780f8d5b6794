import { isScope, missingScopes, parseScopeList, SCOPES, scopesFromClaim } from './scopes';

describe('scopes', () => {
  it('knows exactly the contract scopes', () => {
    expect(SCOPES).toEqual(['llm', 'memory:read', 'memory:write', 'audit:read', 'admin', 'platform:admin']);
    expect(isScope('admin')).toBe(true);
    expect(isScope('Admin')).toBe(false);
    expect(isScope(undefined)).toBe(false);
  });

  it('reads a claim: space/comma separated or an array; unknown scopes dropped; canonical order', () => {
    expect(scopesFromClaim('openid profile admin llm')).toEqual(['llm', 'admin']);
    expect(scopesFromClaim('memory:write,memory:read')).toEqual(['memory:read', 'memory:write']);
    expect(scopesFromClaim(['audit:read', 'email', 42, 'audit:read'])).toEqual(['audit:read']);
    expect(scopesFromClaim(undefined)).toEqual([]);
    expect(scopesFromClaim({ admin: true })).toEqual([]);
  });

  it('parses a CLI list strictly', () => {
    expect(parseScopeList('llm,admin')).toEqual(['llm', 'admin']);
    expect(parseScopeList(' admin , llm ')).toEqual(['llm', 'admin']);
    expect(() => parseScopeList('llm,root')).toThrow(/unknown scope\(s\): root/);
    expect(() => parseScopeList(' , ')).toThrow(/no scopes/);
  });

  it('lists the missing scopes (all required scopes must be held)', () => {
    expect(missingScopes(['llm', 'admin'], ['admin'])).toEqual([]);
    expect(missingScopes(['llm'], ['admin', 'llm'])).toEqual(['admin']);
    expect(missingScopes(['admin'], ['platform:admin'])).toEqual(['platform:admin']);
    expect(missingScopes([], [])).toEqual([]);
  });
});
