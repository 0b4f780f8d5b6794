import { AnthropicAdapter } from './anthropic/anthropic.adapter';
import { loadProviderCredentials } from './credentials';
import { GoogleAdapter } from './google/google.adapter';
import { MockAdapter } from './mock/mock.adapter';
import { OpenAiAdapter } from './openai/openai.adapter';
import { createProviderRegistry, ProviderRegistry } from './registry';

describe('createProviderRegistry', () => {
  it('no provider key → only the embedded mock', async () => {
    const r = createProviderRegistry({ credentials: loadProviderCredentials({ env: {} }) });
    expect(r.ids()).toEqual(['mock']);
    expect(r.getAdapter('mock')).toBeInstanceOf(MockAdapter);
    await r.close();
  });

  it('keys → vendor adapters by id, openai-compatible instances by configured id, no mock', async () => {
    const credentials = loadProviderCredentials({
      env: { OPENAI_API_KEY: 'a', ANTHROPIC_API_KEY: 'b', GOOGLE_AI_API_KEY: 'c' },
    });
    const r = createProviderRegistry({
      credentials,
      openaiCompatible: [{ id: 'ollama', baseUrl: 'http://127.0.0.1:11434/v1' }],
    });
    expect(r.ids()).toEqual(['openai', 'anthropic', 'google', 'ollama']);
    expect(r.getAdapter('openai')).toBeInstanceOf(OpenAiAdapter);
    expect(r.getAdapter('anthropic')).toBeInstanceOf(AnthropicAdapter);
    expect(r.getAdapter('google')).toBeInstanceOf(GoogleAdapter);
    expect(r.getAdapter('ollama').id).toBe('ollama');
    expect(r.has('mock')).toBe(false);
    expect(() => r.getAdapter('mock')).toThrow(/not configured/);
    await r.close();
  });

  it('enableMock keeps mock next to real providers; reserved / duplicate ids are refused', async () => {
    const credentials = loadProviderCredentials({ env: { OPENAI_API_KEY: 'a' } });
    const r = createProviderRegistry({ credentials, enableMock: true });
    expect(r.ids()).toEqual(['openai', 'mock']);
    await r.close();
    expect(() =>
      createProviderRegistry({ credentials, openaiCompatible: [{ id: 'openai', baseUrl: 'http://x' }] }),
    ).toThrow(/reserved/);
    expect(() => new ProviderRegistry([new MockAdapter(), new MockAdapter()])).toThrow(/twice/);
  });
});
