import { readFileSync } from 'node:fs';
import type { CredentialEnvNames, ProviderDefinition } from './provider-definition';
import { PROVIDERS } from './providers';

export interface VendorCredential {
  apiKey?: string;
  /** Official-SDK meaning (see the adapters); defaults filled in. */
  baseUrl: string;
  /** Where the key came from. */
  keySource?: 'env' | 'file';
}

export interface ProviderCredentials {
  /** Each keyed provider's credential by provider id (`apiKey` absent when none is set). */
  vendors: Record<string, VendorCredential>;
  /** Providers that have a key, in PROVIDERS order (openai, anthropic, google). */
  configured: string[];
}

/** A provider keys file that cannot be used. The message names the file, never its content. */
export class ProviderCredentialsError extends Error {
  readonly code = 'provider_keys_file_invalid';
}

export interface LoadCredentialsOptions {
  /** The environment (never read from process.env here). */
  env: Record<string, string | undefined>;
  /** Path of the mounted JSON keys file; defaults to env.PROVIDER_KEYS_FILE. */
  file?: string;
  /** Injected for tests; defaults to fs.readFileSync(path, 'utf8'). */
  readFile?: (path: string) => string;
  /** Whose credentials to read (default PROVIDERS; providers without credentials are skipped). */
  providers?: readonly ProviderDefinition[];
}

function readKeysFile(path: string, readFile: (path: string) => string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFile(path));
  } catch (err) {
    const why = err instanceof SyntaxError ? 'is not valid JSON' : 'cannot be read';
    throw new ProviderCredentialsError(`PROVIDER_KEYS_FILE ${path} ${why}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ProviderCredentialsError(`PROVIDER_KEYS_FILE ${path} must hold a JSON object`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (v === null || v === undefined || v === '') continue;
    if (typeof v !== 'string')
      throw new ProviderCredentialsError(`PROVIDER_KEYS_FILE ${path}: "${k}" must be a string`);
    // `openai_api_key` and `OPENAI_API_KEY` are the same entry
    out[k.toLowerCase()] = v.trim();
  }
  return out;
}

function nonEmpty(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t ? t : undefined;
}

/**
 * Provider keys and base URLs from the environment merged with the mounted JSON keys file
 * (`PROVIDER_KEYS_FILE`). The names are each provider's declared env vars (`OPENAI_API_KEY`,
 * `OPENAI_BASE_URL`, …); the file takes them in any case (`openai_api_key`). Precedence: an
 * explicitly set (non-empty) env var wins over the file, so an operator can override one key
 * without editing the secret.
 */
export function loadProviderCredentials(opts: LoadCredentialsOptions): ProviderCredentials {
  const path = nonEmpty(opts.file) ?? nonEmpty(opts.env.PROVIDER_KEYS_FILE);
  const file = path ? readKeysFile(path, opts.readFile ?? ((p) => readFileSync(p, 'utf8'))) : {};
  const read = (names: CredentialEnvNames): VendorCredential => {
    const envKey = nonEmpty(opts.env[names.apiKey]);
    const fileKey = nonEmpty(file[names.apiKey.toLowerCase()]);
    const baseUrl =
      nonEmpty(opts.env[names.baseUrl]) ??
      nonEmpty(file[names.baseUrl.toLowerCase()]) ??
      names.defaultBaseUrl;
    const cred: VendorCredential = { baseUrl: baseUrl.replace(/\/+$/, '') };
    if (envKey) Object.assign(cred, { apiKey: envKey, keySource: 'env' });
    else if (fileKey) Object.assign(cred, { apiKey: fileKey, keySource: 'file' });
    return cred;
  };
  const vendors: Record<string, VendorCredential> = {};
  for (const p of opts.providers ?? PROVIDERS) if (p.credentials) vendors[p.id] = read(p.credentials);
  const configured = Object.keys(vendors).filter((id) => vendors[id].apiKey);
  return { vendors, configured };
}
