import { routerEnvSchema } from '@app/config';
import { PROVIDERS } from './providers';

/**
 * The provider list against what reads it. libs/config is the only reader of process.env and
 * passes on only the variables its schema declares, so a provider whose env names the router's
 * schema lacks would never see its key: this spec is the one place that ties the two together.
 */
describe('PROVIDERS', () => {
  it('lists openai, anthropic, google and mock once each, in registry order', () => {
    expect(PROVIDERS.map((p) => p.id)).toEqual(['openai', 'anthropic', 'google', 'mock']);
  });

  it("every provider's credential env names are read by the router's config", () => {
    const declared = new Set(Object.keys(routerEnvSchema.shape));
    const missing = PROVIDERS.flatMap((p) =>
      p.credentials ? [p.credentials.apiKey, p.credentials.baseUrl].filter((n) => !declared.has(n)) : [],
    );
    expect(missing).toEqual([]);
    expect(
      PROVIDERS.flatMap((p) => (p.credentials ? [p.credentials.apiKey, p.credentials.baseUrl] : [])),
    ).toEqual([
      'OPENAI_API_KEY',
      'OPENAI_BASE_URL',
      'ANTHROPIC_API_KEY',
      'ANTHROPIC_BASE_URL',
      'GOOGLE_AI_API_KEY',
      'GOOGLE_AI_BASE_URL',
    ]);
  });

  it("each provider's catalog entries name it, and its adapter and fake carry its id", async () => {
    for (const p of PROVIDERS) {
      expect({ id: p.id, providers: [...new Set(p.catalog.models.map((m) => m.provider))] }).toEqual({
        id: p.id,
        providers: [p.id],
      });
      const adapter = p.credentials
        ? p.createAdapter({ apiKey: 'k', baseUrl: p.credentials.defaultBaseUrl })
        : p.createAdapter({});
      expect(adapter.id).toBe(p.id);
      await adapter.close();
      if (p.fakeUpstream) expect((await p.fakeUpstream()).vendor).toBe(p.id);
    }
    expect(PROVIDERS.filter((p) => !p.fakeUpstream).map((p) => p.id)).toEqual(['mock']);
  });
});
