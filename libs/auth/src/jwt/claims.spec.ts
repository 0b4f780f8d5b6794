import { AtpError } from '@app/common';
import { claimsFromPayload, claimValue } from './claims';

const TENANT = '3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
const base = { sub: 'alice', exp: 2_000_000_000, tenant_id: TENANT, scope: 'llm admin openid' };

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return `${(err as AtpError).status} ${(err as AtpError).code}: ${(err as AtpError).message}`;
  }
  return 'no error';
}

describe('token claims', () => {
  it('maps tenant, subject, scopes and jti', () => {
    expect(claimsFromPayload({ ...base, jti: 'j1' }, 'tenant_id', 'scope')).toEqual({
      tenantId: TENANT,
      subject: 'alice',
      scopes: ['llm', 'admin'],
      jti: 'j1',
    });
    expect(claimsFromPayload(base, 'tenant_id', 'scope').jti).toBeNull();
  });

  it('reads configured claims: a namespaced name, a nested path, an array of scopes', () => {
    const p = { sub: 'u', exp: 1, 'https://atp.dev/tenant': TENANT, app: { perms: ['memory:read'] } };
    expect(claimsFromPayload(p, 'https://atp.dev/tenant', 'app.perms')).toMatchObject({
      tenantId: TENANT,
      scopes: ['memory:read'],
    });
    expect(claimValue({ a: { b: { c: 1 } } }, 'a.b.c')).toBe(1);
    expect(claimValue({ a: [1] }, 'a.0')).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['no tenant', { ...base, tenant_id: undefined }, /no tenant_id claim/],
    ['a tenant that is not an id', { ...base, tenant_id: 'acme' }, /not a tenant id/],
    ['no sub', { ...base, sub: undefined }, /no sub claim/],
    ['no exp', { ...base, exp: undefined }, /no exp claim/],
  ])('refuses a token with %s (401 invalid_token)', (_name, payload, message) => {
    const result = code(() => claimsFromPayload(payload, 'tenant_id', 'scope'));
    expect(result).toMatch(/^401 invalid_token: /);
    expect(result).toMatch(message);
  });

  it('refuses a payload that is not an object', () => {
    expect(code(() => claimsFromPayload('x', 'tenant_id', 'scope'))).toMatch(/^401 invalid_token/);
  });
});
