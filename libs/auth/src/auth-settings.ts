import { readFileSync } from 'node:fs';
import type { AppConfig } from '@app/config';
import type { OidcSettings, PlatformJwtSettings } from './jwt/jwt-verify-options';

export interface AuthSettings {
  platformJwt: PlatformJwtSettings;
  /** null: OIDC tokens are not accepted. */
  oidc: OidcSettings | null;
  /** Development bootstrap of a default tenant and admin key (never in production). */
  devBootstrap: boolean;
  dataDir: string;
}

/** Thrown at boot for unusable auth configuration; the message names the variable or file. */
export class AuthConfigError extends Error {
  override name = 'AuthConfigError';
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** http:// is accepted for loopback only (local IdPs, tests); everything else must be https://. */
export function isAllowedOidcUrl(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  if (url.protocol === 'https:') return true;
  return (
    url.protocol === 'http:' && (LOOPBACK_HOSTS.has(url.hostname) || /^127(\.\d{1,3}){3}$/.test(url.hostname))
  );
}

type OidcEnv = Pick<
  AppConfig['env'],
  | 'OIDC_ISSUER_URL'
  | 'OIDC_CLIENT_ID'
  | 'OIDC_CLIENT_SECRET'
  | 'OIDC_TENANT_CLAIM'
  | 'OIDC_SCOPES_CLAIM'
  | 'OIDC_CONFIG_FILE'
>;

/** Names accepted in OIDC_CONFIG_FILE for each setting: the seed's snake_case and the env names. */
const FILE_KEYS = {
  issuer: ['issuer_url', 'issuer', 'OIDC_ISSUER_URL'],
  clientId: ['client_id', 'OIDC_CLIENT_ID'],
  clientSecret: ['client_secret', 'OIDC_CLIENT_SECRET'],
  tenantClaim: ['tenant_claim', 'OIDC_TENANT_CLAIM'],
  scopesClaim: ['scopes_claim', 'scope_claim', 'OIDC_SCOPES_CLAIM'],
} as const;

function fromFile(json: Record<string, unknown>, names: readonly string[], file: string): string | undefined {
  for (const n of names) {
    const v = json[n];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string') throw new AuthConfigError(`OIDC_CONFIG_FILE ${file}: "${n}" must be a string`);
    return v.trim();
  }
  return undefined;
}

/**
 * OIDC settings from OIDC_CONFIG_FILE (a mounted JSON secret, e.g. the seed's `atp-oidc-secret`)
 * and/or the OIDC_* variables. Values in the file win; variables fill what the file leaves out.
 * @returns null when no issuer is configured (OIDC off)
 * @throws AuthConfigError
 */
export function resolveOidcSettings(
  env: OidcEnv,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): OidcSettings | null {
  let file: Partial<Record<keyof typeof FILE_KEYS, string>> = {};
  if (env.OIDC_CONFIG_FILE) {
    const path = env.OIDC_CONFIG_FILE;
    let json: unknown;
    try {
      json = JSON.parse(readFile(path));
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code
        ? `cannot be read (${(err as NodeJS.ErrnoException).code})`
        : 'is not valid JSON';
      throw new AuthConfigError(`OIDC_CONFIG_FILE ${path} ${why}`);
    }
    if (!json || typeof json !== 'object' || Array.isArray(json))
      throw new AuthConfigError(`OIDC_CONFIG_FILE ${path} must hold a JSON object`);
    const obj = json as Record<string, unknown>;
    file = Object.fromEntries(Object.entries(FILE_KEYS).map(([k, names]) => [k, fromFile(obj, names, path)]));
  }
  const issuer = file.issuer ?? env.OIDC_ISSUER_URL;
  if (!issuer) {
    // An empty object (the secret deploy.sh creates until OIDC is configured) means OIDC is off;
    // a file with settings but no issuer is a mistake worth stopping for.
    if (env.OIDC_CONFIG_FILE && Object.values(file).some((v) => v !== undefined && v !== ''))
      throw new AuthConfigError(`OIDC_CONFIG_FILE ${env.OIDC_CONFIG_FILE} has no issuer_url`);
    return null;
  }
  const where = file.issuer ? `issuer_url in OIDC_CONFIG_FILE` : 'OIDC_ISSUER_URL';
  if (!isAllowedOidcUrl(issuer)) {
    throw new AuthConfigError(
      `${where} must be an https:// URL (http:// only for a loopback issuer such as http://127.0.0.1:…)`,
    );
  }
  const clientId = file.clientId ?? env.OIDC_CLIENT_ID;
  if (!clientId)
    throw new AuthConfigError(
      'OIDC_CLIENT_ID (or client_id in OIDC_CONFIG_FILE) is required when an OIDC issuer is configured',
    );
  return {
    issuer,
    clientId,
    clientSecret: file.clientSecret ?? env.OIDC_CLIENT_SECRET,
    tenantClaim: file.tenantClaim ?? env.OIDC_TENANT_CLAIM,
    scopesClaim: file.scopesClaim ?? env.OIDC_SCOPES_CLAIM,
  };
}

/** Everything libs/auth needs from the validated config (only libs/config reads process.env). */
export function resolveAuthSettings(config: AppConfig, readFile?: (path: string) => string): AuthSettings {
  const env = config.env;
  return {
    platformJwt: { secret: config.jwtSecret, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE },
    oidc: resolveOidcSettings(env, readFile),
    devBootstrap: !config.production,
    dataDir: config.dataDir,
  };
}
