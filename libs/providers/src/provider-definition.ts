import type { LlmAdapter, PoolOptions } from './llm-adapter';
import type { FakeVendorWire } from './testing/fake-vendor-wire';

/**
 * What a provider folder declares about itself (`<vendor>/index.ts`). The registry, the router's
 * catalog, the credentials loader and the fake upstream server are all derived from the list of
 * these in `providers.ts`: adding a vendor adds a folder and one entry to that list.
 */

/** The env vars that hold a vendor's key and base URL (PROVIDER_KEYS_FILE takes them lower-cased). */
export interface CredentialEnvNames {
  /** e.g. `OPENAI_API_KEY` */
  apiKey: string;
  /** e.g. `OPENAI_BASE_URL` */
  baseUrl: string;
  /** The base URL when none is configured (the official SDK's default). */
  defaultBaseUrl: string;
}

/**
 * One model of a provider's `<vendor>.catalog.json`, as written there (snake_case, USD per 1M
 * tokens). The router validates and converts it (apps/router/src/routing/catalog.ts).
 */
export interface CatalogEntryData {
  id: string;
  provider: string;
  kind: string;
  [field: string]: unknown;
}

/** A provider's `<vendor>.catalog.json`: its models with list prices, compiled on `as_of`. */
export interface ProviderCatalogData {
  $comment?: string[];
  as_of: string;
  models: readonly CatalogEntryData[];
}

interface ProviderBase {
  /** Registry id, catalog `provider`, and the `owned_by` of its models in `/v1/models`. */
  readonly id: string;
  readonly catalog: ProviderCatalogData;
  /**
   * The vendor's side of the fake upstream server (tests only; loaded on demand so production
   * never runs it). Absent for providers that make no network call.
   */
  readonly fakeUpstream?: () => Promise<FakeVendorWire>;
}

/** A vendor reached over the network with an API key: registered when the key is configured. */
export interface KeyedProviderDefinition extends ProviderBase {
  readonly credentials: CredentialEnvNames;
  createAdapter(settings: { apiKey: string; baseUrl: string; pool?: PoolOptions }): LlmAdapter;
}

/**
 * A provider that needs no key (the mock): registered when no keyed provider is, or when asked
 * for (`enableMock`).
 */
export interface EmbeddedProviderDefinition extends ProviderBase {
  readonly credentials?: undefined;
  createAdapter(settings: { pool?: PoolOptions }): LlmAdapter;
}

export type ProviderDefinition = KeyedProviderDefinition | EmbeddedProviderDefinition;
