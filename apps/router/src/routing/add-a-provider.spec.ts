import type { Caller } from '@app/auth';
import {
  createProviderRegistry,
  type KeyedProviderDefinition,
  loadProviderCredentials,
  OpenAiAdapter,
  PROVIDERS,
} from '@app/providers';
import {
  type FakeUpstream,
  type FakeVendorWire,
  openaiFakeWire,
  startFakeUpstream,
} from '@app/providers/testing';
import { ModelsController } from '../doors/models/models.controller';
import type { RequestPolicyService } from '../policy/request-policy.service';
import { resolveModel } from './resolve-model';
import { buildCatalog, parseRoutingConfig } from './routing-config';
import type { RoutingService } from './routing.service';

/**
 * "Adding a vendor touches its folder and one list": a fifth provider defined in one object
 * (here, an openai-compatible vendor with its own fake) and appended to the list is read from its
 * env vars, registered, priced in the catalog, routable, listed by GET /v1/models, and served
 * by the fake upstream server — with no other code changed.
 */

/** Acme's fake: the OpenAI wire format under `/acme/v1`. */
const acmeWire: FakeVendorWire = {
  ...openaiFakeWire,
  vendor: 'acme',
  basePath: '/acme/v1',
  idPrefix: 'acme-fake',
  route: (method, path, body) =>
    path.startsWith('/acme/') ? openaiFakeWire.route(method, path.slice('/acme'.length), body) : undefined,
};

const acme: KeyedProviderDefinition = {
  id: 'acme',
  credentials: {
    apiKey: 'ACME_API_KEY',
    baseUrl: 'ACME_BASE_URL',
    defaultBaseUrl: 'https://api.acme.example/v1',
  },
  catalog: {
    as_of: '2026-11-30',
    models: [
      {
        id: 'acme-2',
        provider: 'acme',
        kind: 'chat',
        input: 1,
        output: 3,
        context_window: 64000,
        max_output_tokens: 8000,
        quality: 0.7,
      },
      {
        id: 'acme-1',
        provider: 'acme',
        kind: 'chat',
        input: 2,
        output: 6,
        context_window: 32000,
        max_output_tokens: 4000,
        deprecated: '2027-01-31',
        replacement: 'acme-2',
      },
    ],
  },
  createAdapter: ({ apiKey, baseUrl, pool }) => new OpenAiAdapter({ id: 'acme', apiKey, baseUrl, pool }),
  fakeUpstream: async () => acmeWire,
};

const WITH_ACME = [...PROVIDERS, acme];

/** GET /v1/models as the controller answers it, for a caller every model is allowed to. */
function listModels(
  catalog: ReturnType<typeof buildCatalog>,
  providers: RoutingService['configuredProviders'],
) {
  const routing = { configuredProviders: providers } as RoutingService;
  const policy = { policy: async () => ({}), isModelAllowed: () => true } as unknown as RequestPolicyService;
  return new ModelsController(catalog, routing, policy).list({} as Caller);
}

describe('adding a provider: its folder and one list entry', () => {
  let upstream: FakeUpstream;

  beforeAll(async () => {
    upstream = await startFakeUpstream({ providers: WITH_ACME });
  });
  afterAll(() => upstream.close());

  it('the fake upstream server speaks the new vendor beside the built-in ones', () => {
    expect(upstream.baseUrls).toEqual({
      openai: `${upstream.url}/v1`,
      anthropic: upstream.url,
      google: upstream.url,
      acme: `${upstream.url}/acme/v1`,
    });
  });

  it('its env vars configure it, the registry builds its adapter, and a call reaches its upstream', async () => {
    const env = { ACME_API_KEY: 'sk-acme', ACME_BASE_URL: upstream.baseUrls.acme };
    const credentials = loadProviderCredentials({ env, providers: WITH_ACME });
    expect(credentials.configured).toEqual(['acme']);
    expect(credentials.vendors.acme).toEqual({
      apiKey: 'sk-acme',
      baseUrl: upstream.baseUrls.acme,
      keySource: 'env',
    });

    const registry = createProviderRegistry({ credentials, providers: WITH_ACME });
    expect(registry.ids()).toEqual(['acme']);
    upstream.enqueue({ text: 'Hi from Acme', usage: { prompt: 4, completion: 3 } });
    const res = await registry
      .getAdapter('acme')
      .chat(
        { model: 'acme-2', messages: [{ role: 'user', content: 'hi' }] },
        { signal: new AbortController().signal },
      );
    expect(res.choices[0].message.content).toBe('Hi from Acme');
    expect(res.usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 3 });
    expect(upstream.requests.map((r) => [r.vendor, r.url, r.headers.authorization])).toEqual([
      ['acme', '/acme/v1/chat/completions', 'Bearer sk-acme'],
    ]);
    await registry.close();

    // Without the list entry the same env configures nothing: the embedded mock serves.
    const without = createProviderRegistry({ credentials: loadProviderCredentials({ env }) });
    expect(without.ids()).toEqual(['mock']);
    await without.close();
  });

  it('its models join the catalog with their prices and deprecation, route, and list in /v1/models', async () => {
    const file = parseRoutingConfig('routes:\n  acme-best:\n    candidates: [acme-2]\n');
    const catalog = buildCatalog(file, WITH_ACME);
    expect(catalog.models.get('acme-2')).toEqual({
      id: 'acme-2',
      provider: 'acme',
      upstream: 'acme-2',
      kind: 'chat',
      inputPer1M: 1,
      outputPer1M: 3,
      contextWindow: 64000,
      maxOutputTokens: 8000,
      quality: 0.7,
      capabilities: { tools: true, vision: true, json: true },
    });
    expect(catalog.models.get('acme-1')?.deprecated).toEqual({ date: '2027-01-31', replacement: 'acme-2' });
    expect(catalog.models.get('gpt-4o-mini')?.provider).toBe('openai');

    const configured = new Set(['acme']);
    expect(resolveModel('acme-best', 'chat', catalog, configured).candidates.map((m) => m.id)).toEqual([
      'acme-2',
    ]);
    const listed = await listModels(catalog, () => configured);
    const doors = ['chat', 'responses', 'messages'];
    expect(listed.data).toEqual([
      { id: 'acme-2', object: 'model', created: 1_735_689_600, owned_by: 'acme', doors },
      {
        id: 'acme-1',
        object: 'model',
        created: 1_735_689_600,
        owned_by: 'acme',
        deprecated: true,
        deprecation_date: '2027-01-31',
        replacement: 'acme-2',
        doors,
      },
      { id: 'acme-best', object: 'model', created: 1_735_689_600, owned_by: 'atp', doors },
    ]);
  });

  it('a definition whose catalog names another provider, or repeats a built-in id, is refused', () => {
    const stray = {
      ...acme,
      catalog: { ...acme.catalog, models: [{ ...acme.catalog.models[0], provider: 'openai' }] },
    };
    expect(() => buildCatalog(undefined, [...PROVIDERS, stray])).toThrow(
      'acme.catalog.json lists acme-2 under provider "openai"',
    );
    const copy = {
      ...acme,
      catalog: { ...acme.catalog, models: [{ ...acme.catalog.models[0], id: 'gpt-4o-mini' }] },
    };
    expect(() => buildCatalog(undefined, [...PROVIDERS, copy])).toThrow(
      'gpt-4o-mini is listed by both openai.catalog.json and acme.catalog.json',
    );
  });
});
