import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { parseKeyRing, type KeyRingEntry } from './key-ring';
import { cliEnvSchema, gatewayEnvSchema, routerEnvSchema, type CommonEnv } from './schema';

export type AppName = 'router' | 'memory-gateway' | 'cli';

const schemas = {
  router: routerEnvSchema,
  'memory-gateway': gatewayEnvSchema,
  cli: cliEnvSchema,
} as const;

export type EnvFor<A extends AppName> = z.infer<(typeof schemas)[A]>;

export type DatabaseConfig =
  { type: 'postgres'; url: string } | { type: 'sqlite'; path: string; synchronous: 'normal' | 'full' };
export interface RedisConfig {
  url: string;
  prefix: string;
  /** ATP_REDIS_TIMEOUT_MS: the wait for one command on the request path. */
  timeoutMs: number;
}

/** The validated, resolved configuration an app runs with. */
export interface AppConfig<A extends AppName = AppName> {
  app: A;
  env: EnvFor<A>;
  production: boolean;
  dataDir: string;
  database: DatabaseConfig;
  /** null → in-process cache and counters. */
  redis: RedisConfig | null;
  jwtSecret: string;
  /** Names of embedded defaults in use (for the start-up banner and /ready detail). */
  embedded: string[];
  /**
   * The ENCRYPTION_KEY key ring (memory gateway, router for stored responses, CLI); the first
   * entry is primary.
   */
  encryptionKeys: KeyRingEntry[];
}

export class ConfigError extends Error {
  constructor(
    readonly app: AppName,
    readonly problems: string[],
  ) {
    super(`Invalid configuration for ${app}: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

const MIN_JWT_SECRET_BYTES = 32;

/**
 * Validates the environment for one app. Every problem is collected, so the operator sees
 * them all in one message. Throws {@link ConfigError}.
 */
export function loadConfig<A extends AppName>(
  app: A,
  rawEnv: Record<string, string | undefined>,
): AppConfig<A> {
  const parsed = schemas[app].safeParse(rawEnv);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = issue.path.join('.') || '(env)';
      problems.push(`${name} ${issue.message}`);
    }
    throw new ConfigError(app, problems);
  }
  const env = parsed.data as EnvFor<A> & CommonEnv;
  const production = env.NODE_ENV === 'production';
  const embeddedAllowed = !production || env.ATP_ALLOW_EMBEDDED;
  const embedded: string[] = [];

  if (!env.DATABASE_URL) {
    if (embeddedAllowed) embedded.push('sqlite');
    else
      problems.push(
        'DATABASE_URL is required in production (or set ATP_ALLOW_EMBEDDED=true for embedded SQLite)',
      );
  }
  // The CLI (migrations, keys, tokens) needs only the database; `token` checks the JWT secret itself.
  const needsServices = app !== 'cli';
  if (!env.REDIS_URL) {
    if (embeddedAllowed || !needsServices) embedded.push('in-process cache');
    else
      problems.push(
        'REDIS_URL is required in production (or set ATP_ALLOW_EMBEDDED=true for the in-process cache)',
      );
  }
  if (
    env.JWT_SECRET_KEY !== undefined &&
    Buffer.byteLength(env.JWT_SECRET_KEY) < MIN_JWT_SECRET_BYTES &&
    production
  ) {
    problems.push(`JWT_SECRET_KEY must be at least ${MIN_JWT_SECRET_BYTES} bytes in production`);
  }
  if (!env.JWT_SECRET_KEY && !embeddedAllowed && needsServices) {
    problems.push('JWT_SECRET_KEY is required in production (at least 32 bytes)');
  }
  if (env.OIDC_ISSUER_URL && !env.OIDC_CLIENT_ID && !env.OIDC_CONFIG_FILE) {
    problems.push('OIDC_CLIENT_ID is required when OIDC_ISSUER_URL is set');
  }

  let encryptionKeys: KeyRingEntry[] = [];
  const rawEncryptionKey = (env as { ENCRYPTION_KEY?: string }).ENCRYPTION_KEY;
  if (rawEncryptionKey) {
    try {
      encryptionKeys = parseKeyRing(rawEncryptionKey);
    } catch (err) {
      problems.push(`ENCRYPTION_KEY ${(err as Error).message}`);
    }
  } else if (needsServices && !embeddedAllowed) {
    // The gateway encrypts memory with it, the router stored responses (same tenant data keys).
    problems.push('ENCRYPTION_KEY is required in production (base64 32-byte key or kid:base64 key ring)');
  }
  if (app === 'router' && !embeddedAllowed) {
    const r = env as EnvFor<'router'>;
    if (!r.OPENAI_API_KEY && !r.ANTHROPIC_API_KEY && !r.GOOGLE_AI_API_KEY && !r.PROVIDER_KEYS_FILE) {
      problems.push(
        'a provider credential is required in production: OPENAI_API_KEY, ANTHROPIC_API_KEY, GOOGLE_AI_API_KEY or PROVIDER_KEYS_FILE (or ATP_ALLOW_EMBEDDED=true for the mock provider)',
      );
    }
  }
  if (app === 'router' && (env as EnvFor<'router'>).ATP_ROUTER_WORKERS > 1 && !env.REDIS_URL) {
    problems.push(
      'ATP_ROUTER_WORKERS above 1 needs REDIS_URL: rate limits, budgets, circuits and the response cache are shared through Redis (the in-process store would be per worker)',
    );
  }
  if (problems.length) throw new ConfigError(app, problems);

  const dataDir = resolve(env.ATP_DATA_DIR ?? '.atp');
  let jwtSecret = env.JWT_SECRET_KEY ?? '';
  // Generated secrets are a development convenience: production never writes them to disk.
  if (embeddedAllowed && (!jwtSecret || !encryptionKeys.length)) {
    const dev = devSecrets(dataDir);
    if (!jwtSecret) {
      jwtSecret = dev.jwtSecret;
      embedded.push('generated JWT secret');
    }
    if (!encryptionKeys.length) {
      encryptionKeys = parseKeyRing(dev.encryptionKey);
      embedded.push('generated encryption key');
    }
  }

  return {
    app,
    env,
    production,
    dataDir,
    database: env.DATABASE_URL
      ? { type: 'postgres', url: env.DATABASE_URL }
      : { type: 'sqlite', path: join(dataDir, 'atp.sqlite'), synchronous: env.ATP_SQLITE_SYNCHRONOUS },
    redis: env.REDIS_URL
      ? { url: env.REDIS_URL, prefix: env.REDIS_KEY_PREFIX, timeoutMs: env.ATP_REDIS_TIMEOUT_MS }
      : null,
    jwtSecret,
    embedded,
    encryptionKeys,
  };
}

interface DevSecrets {
  jwtSecret: string;
  encryptionKey: string;
}

/**
 * Development-only secrets, generated once and shared by both services through the data
 * directory (mode 0600), so a token minted by the CLI works on both and data stays readable
 * across restarts.
 */
function devSecrets(dataDir: string): DevSecrets {
  const file = join(dataDir, 'dev-secrets.json');
  if (existsSync(file)) {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<DevSecrets>;
    if (parsed.jwtSecret && parsed.encryptionKey) return parsed as DevSecrets;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secrets: DevSecrets = {
    jwtSecret: randomBytes(48).toString('base64url'),
    encryptionKey: `dev1:${randomBytes(32).toString('base64')}`,
  };
  try {
    // 'wx' so two processes starting together agree on one secret: the loser re-reads.
    writeFileSync(file, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return devSecrets(dataDir);
    throw err;
  }
  chmodSync(file, 0o600);
  return secrets;
}
