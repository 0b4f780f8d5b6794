import type { KeyedProviderDefinition } from '../provider-definition';
import { GOOGLE_DEFAULT_BASE_URL, GoogleAdapter } from './google.adapter';
import catalog from './google.catalog.json';

/** Google: the Gemini API (generateContent, streaming, embeddings). */
export const google: KeyedProviderDefinition = {
  id: 'google',
  credentials: {
    apiKey: 'GOOGLE_AI_API_KEY',
    baseUrl: 'GOOGLE_AI_BASE_URL',
    defaultBaseUrl: GOOGLE_DEFAULT_BASE_URL,
  },
  catalog,
  createAdapter: ({ apiKey, baseUrl, pool }) => new GoogleAdapter({ apiKey, baseUrl, pool }),
  fakeUpstream: () => import('./testing').then((m) => m.googleFakeWire),
};
