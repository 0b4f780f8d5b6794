import { isAllowedOidcUrl, resolveOidcSettings } from './auth-settings';

const env = (extra: Record<string, string | undefined> = {}) => ({
  OIDC_ISSUER_URL: undefined,
  OIDC_CLIENT_ID: undefined,
  OIDC_CLIENT_SECRET: undefined,
  OIDC_TENANT_CLAIM: 'tenant_id',
  OIDC_SCOPES_CLAIM: 'scope',
  OIDC_CONFIG_FILE: undefined,
  ...extra,
});
const files = (content: Record<string, string>) => (path: string) => {
  if (!(path in content)) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
  return content[path];
};

describe('OIDC issuer URLs', () => {
  it.each([
    ['https://idp.example.com', true],
    ['https://idp.example.com/realms/atp', true],
    ['http://127.0.0.1:8080', true],
    ['http://127.9.9.9', true],
    ['http://localhost:9000/', true],
    ['http://[::1]:9000', true],
    ['http://idp.example.com', false],
    ['http://localhost.example.com', false],
    ['http://127.0.0.1.nip.io', false],
    ['https://user:pass@idp.example.com', false],
    ['ftp://idp.example.com', false],
    ['not a url', false],
  ])('%s → %s', (url, ok) => expect(isAllowedOidcUrl(url)).toBe(ok));
});

describe('resolveOidcSettings', () => {
  it('is off without an issuer', () => {
    expect(resolveOidcSettings(env())).toBeNull();
  });

  it('reads the OIDC_* variables', () => {
    expect(
      resolveOidcSettings(
        env({ OIDC_ISSUER_URL: 'https://idp', OIDC_CLIENT_ID: 'c', OIDC_CLIENT_SECRET: 's' }),
      ),
    ).toEqual({
      issuer: 'https://idp',
      clientId: 'c',
      clientSecret: 's',
      tenantClaim: 'tenant_id',
      scopesClaim: 'scope',
    });
  });

  it('reads OIDC_CONFIG_FILE with the seed’s snake_case keys; file values win over variables', () => {
    const read = files({
      '/secrets/oidc.json': JSON.stringify({
        issuer_url: 'https://file-idp',
        client_id: 'file-client',
        client_secret: 'file-secret',
        tenant_claim: 'org',
        scopes_claim: 'permissions',
      }),
    });
    expect(
      resolveOidcSettings(
        env({ OIDC_CONFIG_FILE: '/secrets/oidc.json', OIDC_CLIENT_ID: 'env-client' }),
        read,
      ),
    ).toEqual({
      issuer: 'https://file-idp',
      clientId: 'file-client',
      clientSecret: 'file-secret',
      tenantClaim: 'org',
      scopesClaim: 'permissions',
    });
  });

  it('accepts the variable names inside the file and lets variables fill gaps', () => {
    const read = files({
      '/f': JSON.stringify({ OIDC_ISSUER_URL: 'http://localhost:8081', OIDC_SCOPES_CLAIM: 'scp' }),
    });
    expect(
      resolveOidcSettings(env({ OIDC_CONFIG_FILE: '/f', OIDC_CLIENT_ID: 'env-client' }), read),
    ).toMatchObject({
      issuer: 'http://localhost:8081',
      clientId: 'env-client',
      scopesClaim: 'scp',
      tenantClaim: 'tenant_id',
    });
  });

  it.each<[Record<string, string>, Record<string, string>, RegExp]>([
    [
      { OIDC_ISSUER_URL: 'http://idp.example.com', OIDC_CLIENT_ID: 'c' },
      {},
      /OIDC_ISSUER_URL must be an https:\/\//,
    ],
    [{ OIDC_ISSUER_URL: 'https://idp' }, {}, /OIDC_CLIENT_ID/],
    [{ OIDC_CONFIG_FILE: '/missing.json' }, {}, /OIDC_CONFIG_FILE \/missing.json cannot be read \(ENOENT\)/],
    [{ OIDC_CONFIG_FILE: '/f' }, { '/f': '{not json' }, /is not valid JSON/],
    [{ OIDC_CONFIG_FILE: '/f' }, { '/f': '[1]' }, /JSON object/],
    [{ OIDC_CONFIG_FILE: '/f' }, { '/f': '{"client_id":"c"}' }, /no issuer_url/],
    [
      { OIDC_CONFIG_FILE: '/f' },
      { '/f': '{"issuer_url":"http://evil","client_id":"c"}' },
      /issuer_url in OIDC_CONFIG_FILE must be an https/,
    ],
    [{ OIDC_CONFIG_FILE: '/f' }, { '/f': '{"issuer_url":42}' }, /"issuer_url" must be a string/],
  ])('refuses %j', (vars, content, message) => {
    expect(() => resolveOidcSettings(env(vars), files(content))).toThrow(message);
  });

  it('never puts the client secret in an error message', () => {
    const read = files({
      '/f': JSON.stringify({ issuer_url: 'http://evil', client_secret: 'do-not-print-me' }),
    });
    expect(() => resolveOidcSettings(env({ OIDC_CONFIG_FILE: '/f' }), read)).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('do-not-print-me') }),
    );
  });
});
