import type { KeyedProviderDefinition } from '../provider-definition';
import { ANTHROPIC_DEFAULT_BASE_URL, AnthropicAdapter } from './anthropic.adapter';
import catalog from './anthropic.catalog.json';

/** Anthropic: the Messages API (chat only). */
export const anthropic: KeyedProviderDefinition = {
  id: 'anthropic',
  credentials: {
    apiKey: 'ANTHROPIC_API_KEY',
    baseUrl: 'ANTHROPIC_BASE_URL',
    defaultBaseUrl: ANTHROPIC_DEFAULT_BASE_URL,
  },
  catalog,
  createAdapter: ({ apiKey, baseUrl, pool }) => new AnthropicAdapter({ apiKey, baseUrl, pool }),
  fakeUpstream: () => import('./testing').then((m) => m.anthropicFakeWire),
};
