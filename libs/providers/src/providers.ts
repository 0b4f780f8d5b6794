import { anthropic } from './anthropic';
import { google } from './google';
import { mock } from './mock';
import { openai } from './openai';
import type { ProviderDefinition } from './provider-definition';

/**
 * Every built-in provider, each one folder. The registry, the router's built-in catalog, the
 * credentials (env and PROVIDER_KEYS_FILE names) and the fake upstream server are derived from
 * this list: adding a vendor adds its folder and one entry here (see README "Adding a provider").
 * The order is the registry's and the catalog's.
 */
export const PROVIDERS: readonly ProviderDefinition[] = [openai, anthropic, google, mock];
