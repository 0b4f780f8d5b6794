import type { EmbeddedProviderDefinition } from '../provider-definition';
import { MockAdapter } from './mock.adapter';
import catalog from './mock.catalog.json';

/**
 * The mock: deterministic answers, no network, no key. The embedded default when no vendor is
 * configured; it has no fake upstream (it is its own fake).
 */
export const mock: EmbeddedProviderDefinition = {
  id: 'mock',
  catalog,
  createAdapter: () => new MockAdapter(),
};
