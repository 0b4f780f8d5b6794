import { loadProviderCredentials, ProviderCredentialsError } from './credentials';

const files = (content: Record<string, string>) => (path: string) => {
  if (!(path in content)) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
  return content[path];
};

describe('loadProviderCredentials', () => {
  it('no env, no file → nothing configured, default base URLs', () => {
    const c = loadProviderCredentials({ env: {} });
    expect(c.configured).toEqual([]);
    expect(c.vendors.openai).toEqual({ baseUrl: 'https://api.openai.com/v1' });
    expect(c.vendors.anthropic.baseUrl).toBe('https://api.anthropic.com');
    expect(c.vendors.google.baseUrl).toBe('https://generativelanguage.googleapis.com');
  });

  it('reads env keys and base URLs (trailing slash dropped)', () => {
    const c = loadProviderCredentials({
      env: {
        OPENAI_API_KEY: 'sk-env',
        GOOGLE_AI_API_KEY: 'g-env',
        OPENAI_BASE_URL: 'http://127.0.0.1:9/v1/',
        ANTHROPIC_API_KEY: '  ',
      },
    });
    expect(c.configured).toEqual(['openai', 'google']);
    expect(c.vendors.openai).toEqual({
      apiKey: 'sk-env',
      baseUrl: 'http://127.0.0.1:9/v1',
      keySource: 'env',
    });
    expect(c.vendors.anthropic.apiKey).toBeUndefined();
  });

  it('merges the PROVIDER_KEYS_FILE (snake_case or env-var names); explicit env wins', () => {
    const readFile = files({
      '/secrets/keys.json': JSON.stringify({
        openai_api_key: 'sk-file',
        ANTHROPIC_API_KEY: 'ant-file',
        google_ai_api_key: 'g-file',
        anthropic_base_url: 'http://proxy.local',
      }),
    });
    const c = loadProviderCredentials({
      env: { PROVIDER_KEYS_FILE: '/secrets/keys.json', OPENAI_API_KEY: 'sk-env' },
      readFile,
    });
    expect(c.configured).toEqual(['openai', 'anthropic', 'google']);
    expect(c.vendors.openai).toMatchObject({ apiKey: 'sk-env', keySource: 'env' });
    expect(c.vendors.anthropic).toEqual({
      apiKey: 'ant-file',
      baseUrl: 'http://proxy.local',
      keySource: 'file',
    });
    expect(c.vendors.google).toMatchObject({ apiKey: 'g-file', keySource: 'file' });
  });

  it('`file` overrides PROVIDER_KEYS_FILE', () => {
    const readFile = files({ '/b.json': '{"openai_api_key":"sk-b"}' });
    const c = loadProviderCredentials({ env: { PROVIDER_KEYS_FILE: '/a.json' }, file: '/b.json', readFile });
    expect(c.vendors.openai.apiKey).toBe('sk-b');
  });

  it.each([
    ['missing', {}, /cannot be read/],
    ['not JSON', { '/k.json': 'sk-secret-value' }, /not valid JSON/],
    ['not an object', { '/k.json': '["sk"]' }, /JSON object/],
    ['a non-string value', { '/k.json': '{"openai_api_key": 42}' }, /must be a string/],
  ])('a bad file (%s) fails with a message that never includes the content', (_why, content, message) => {
    const run = () =>
      loadProviderCredentials({
        env: { PROVIDER_KEYS_FILE: '/k.json' },
        readFile: files(content as Record<string, string>),
      });
    expect(run).toThrow(ProviderCredentialsError);
    expect(run).toThrow(message);
    try {
      run();
    } catch (err) {
      expect((err as Error).message).not.toContain('sk-secret-value');
    }
  });
});
