import { readFileSync } from 'node:fs';

export type VendorId = 'openai' | 'anthropic' | 'google';

export interface VendorCredential {
  apiKey?: string;
  /** Official-SDK meaning (see the adapters); defaults filled in. */
  baseUrl: string;
  /** Where the key came from. */
  keySource?: 'env' | 'file';
}

export interface ProviderCredentials {
  openai: VendorCredential;
  anthropic: VendorCredential;
  google: VendorCredential;
  /** Vendors that have a key, in this order: openai, anthropic, google. */
  configured: VendorId[];
}

export const DEFAULT_BASE_URLS: Record<VendorId, string> = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
  google: 'https://generativelanguage.googleapis.com',
};

const NAMES: Record<VendorId, { key: string; baseUrl: string }> = {
  openai: { key: 'OPENAI_API_KEY', baseUrl: 'OPENAI_BASE_URL' },
  anthropic: { key: 'ANTHROPIC_API_KEY', baseUrl: 'ANTHROPIC_BASE_URL' },
  google: { key: 'GOOGLE_AI_API_KEY', baseUrl: 'GOOGLE_AI_BASE_URL' },
};

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
 * (`PROVIDER_KEYS_FILE`, keys `openai_api_key`, `anthropic_api_key`, `google_ai_api_key`,
 * `*_base_url`, or the env-var names). Precedence: an explicitly set (non-empty) env var wins
 * over the file, so an operator can override one key without editing the secret.
 */
export function loadProviderCredentials(opts: LoadCredentialsOptions): ProviderCredentials {
  const path = nonEmpty(opts.file) ?? nonEmpty(opts.env.PROVIDER_KEYS_FILE);
  const file = path ? readKeysFile(path, opts.readFile ?? ((p) => readFileSync(p, 'utf8'))) : {};
  const vendor = (id: VendorId): VendorCredential => {
    const names = NAMES[id];
    const envKey = nonEmpty(opts.env[names.key]);
    const fileKey = nonEmpty(file[names.key.toLowerCase()]);
    const baseUrl =
      nonEmpty(opts.env[names.baseUrl]) ??
      nonEmpty(file[names.baseUrl.toLowerCase()]) ??
      DEFAULT_BASE_URLS[id];
    const cred: VendorCredential = { baseUrl: baseUrl.replace(/\/+$/, '') };
    if (envKey) Object.assign(cred, { apiKey: envKey, keySource: 'env' });
    else if (fileKey) Object.assign(cred, { apiKey: fileKey, keySource: 'file' });
    return cred;
  };
  const creds = { openai: vendor('openai'), anthropic: vendor('anthropic'), google: vendor('google') };
  const configured = (Object.keys(NAMES) as VendorId[]).filter((id) => creds[id].apiKey);
  return { ...creds, configured };
}
