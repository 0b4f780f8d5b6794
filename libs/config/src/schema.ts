import { availableParallelism } from 'node:os';
import { z } from 'zod';

const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const optionalString = z.preprocess(emptyToUndefined, z.string().optional());

const bool = (def: boolean) =>
  z.preprocess(
    emptyToUndefined,
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no', 'TRUE', 'FALSE', 'True', 'False'], {
        message: 'must be true or false',
      })
      .optional()
      .transform((v) => (v === undefined ? def : ['true', '1', 'yes'].includes(v.toLowerCase()))),
  );

/** One of two words, in any case and with spaces around it; the first when unset or blank. */
const eitherWord = <const T extends readonly [string, string]>(words: T) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' ? v.trim().toLowerCase() : undefined),
    z.enum(words, { message: `must be ${words[0]} or ${words[1]}` }).default(words[0]),
  );

const port = (def: number) =>
  z.preprocess(
    emptyToUndefined,
    z.coerce
      .number({ message: 'must be a port number' })
      .int('must be a whole number')
      .min(0, 'must be between 0 and 65535')
      .max(65535, 'must be between 0 and 65535')
      .default(def),
  );

const url = (protocols: string[], what: string) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string()
      .refine(
        (v) => {
          try {
            return protocols.includes(new URL(v).protocol);
          } catch {
            return false;
          }
        },
        `must be a ${what} URL (${protocols.map((p) => p + '//').join(' or ')}…)`,
      )
      .optional(),
  );

/**
 * PostgreSQL URLs, including Cloud SQL's socket form `postgres://user:pass@/db?host=/cloudsql/…`
 * which WHATWG URL rejects (credentials with an empty host).
 */
const postgresUrl = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .refine((v) => {
      const m = /^postgres(?:ql)?:\/\/(?:[^@/]*@)?([^/?]*)\/?([^?]*)(\?.*)?$/.exec(v);
      if (!m) return false;
      const host = m[1] || new URLSearchParams(m[3] ?? '').get('host');
      return Boolean(host);
    }, 'must be a PostgreSQL URL (postgres://user:pass@host:5432/db, or postgres://user:pass@/db?host=/cloudsql/…)')
    .optional(),
);

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR'] as const;

/** Variables both services read (CONTRACT §2). */
export const commonEnvShape = {
  NODE_ENV: z.preprocess(
    emptyToUndefined,
    z.enum(['development', 'production', 'test']).default('development'),
  ),
  ATP_ALLOW_EMBEDDED: bool(false),
  ATP_DATA_DIR: optionalString,
  /**
   * Embedded SQLite's commit (WAL mode). `normal`: a commit survives the process being killed; the
   * last commits before an OS crash or a power cut may roll back. `full`: every commit waits for
   * fsync, which blocks the event loop (0.6–0.7 ms median, 4.9–5.5 ms p99 a commit on the bench VM).
   */
  ATP_SQLITE_SYNCHRONOUS: eitherWord(['normal', 'full']),
  DATABASE_URL: postgresUrl,
  REDIS_URL: url(['redis:', 'rediss:'], 'Redis'),
  /** Key prefix for everything ATP stores in Redis; lets several deployments (or tests) share one Redis. */
  REDIS_KEY_PREFIX: z.preprocess(emptyToUndefined, z.string().max(64).default('atp:')),
  /**
   * How long a Redis command may go without a reply before one PING checks whether Redis is
   * alive: if the PING does not answer (500 ms), Redis is marked down and no request waits on it
   * (limits follow ATP_LIMITS_ON_REDIS_DOWN, budgets answer 503, caches are bypassed) until a
   * background PING answers again.
   */
  ATP_REDIS_TIMEOUT_MS: z.preprocess(
    emptyToUndefined,
    z.coerce.number({ message: 'must be a number of milliseconds' }).int().min(5).max(10_000).default(50),
  ),
  LOG_LEVEL: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' ? v.trim().toUpperCase() : undefined),
    z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` }).default('INFO'),
  ),
  JWT_SECRET_KEY: optionalString,
  JWT_ISSUER: optionalString,
  JWT_AUDIENCE: optionalString,
  OIDC_ISSUER_URL: url(['https:', 'http:'], 'http(s)'),
  OIDC_CLIENT_ID: optionalString,
  OIDC_CLIENT_SECRET: optionalString,
  OIDC_TENANT_CLAIM: z.preprocess(emptyToUndefined, z.string().default('tenant_id')),
  OIDC_SCOPES_CLAIM: z.preprocess(emptyToUndefined, z.string().default('scope')),
  OIDC_CONFIG_FILE: optionalString,
  CORS_ORIGINS: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .optional()
      .transform((v) =>
        v
          ? v
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : [],
      ),
  ),
  OTEL_EXPORTER_OTLP_ENDPOINT: url(['http:', 'https:'], 'http(s)'),
  OTEL_RESOURCE_ATTRIBUTES: optionalString,
  AUDIT_LOG_ENABLED: bool(true),
  /** Largest accepted request body (bytes). */
  ATP_BODY_LIMIT_BYTES: z.preprocess(
    emptyToUndefined,
    z.coerce
      .number({ message: 'must be a number of bytes' })
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(4 * 1024 * 1024),
  ),
  /**
   * Worker threads that run PII detection of large texts and values (memory values, the PII API,
   * prompts) off the event loop; 0 runs it on the loop. Default: min(2, CPUs).
   */
  ATP_PII_WORKERS: z.preprocess(
    emptyToUndefined,
    z.coerce
      .number({ message: 'must be a number of threads (0 = none)' })
      .int()
      .min(0)
      .max(32)
      .default(Math.min(2, availableParallelism())),
  ),
  /** Seconds SIGTERM waits for in-flight requests before closing anyway (Cloud Run gives 10). */
  ATP_SHUTDOWN_GRACE_SECONDS: z.preprocess(emptyToUndefined, z.coerce.number().min(0).max(3600).default(8)),
  /**
   * Extra descriptors for the listening socket (libs/common/src/accept-lanes.ts): a busy process
   * accepts up to 1 + this many new connections per turn of its event loop instead of one. 0 = off.
   */
  ATP_ACCEPT_LANES: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(256).default(32)),
} as const;

export const routerEnvSchema = z.object({
  ...commonEnvShape,
  PORT: port(8080),
  OPENAI_API_KEY: optionalString,
  ANTHROPIC_API_KEY: optionalString,
  GOOGLE_AI_API_KEY: optionalString,
  OPENAI_BASE_URL: url(['https:', 'http:'], 'http(s)'),
  ANTHROPIC_BASE_URL: url(['https:', 'http:'], 'http(s)'),
  GOOGLE_AI_BASE_URL: url(['https:', 'http:'], 'http(s)'),
  PROVIDER_KEYS_FILE: optionalString,
  ATP_ROUTING_CONFIG: optionalString,
  MEMORY_GATEWAY_URL: url(['https:', 'http:'], 'http(s)'),
  /** Tokens of stored session turns (x-atp-session-id) prepended to a prompt, newest first. */
  ATP_SESSION_WINDOW_TOKENS: z.preprocess(
    emptyToUndefined,
    z.coerce.number().int().min(0).max(1_000_000).default(4000),
  ),
  /** One upstream attempt (to the full answer; for streams, to the first chunk). */
  ATP_UPSTREAM_TIMEOUT_MS: z.preprocess(
    emptyToUndefined,
    z.coerce.number().int().min(50).max(600_000).default(60_000),
  ),
  /**
   * Sockets per upstream origin = upstream exchanges in flight per provider (a stream holds one for
   * its whole length). Sized for the Cloud Run service's containerConcurrency (1000).
   */
  ATP_UPSTREAM_CONNECTIONS: z.preprocess(
    emptyToUndefined,
    z.coerce.number().int().min(1).max(65_536).default(1024),
  ),
  /** Longest wait for a free upstream socket before the attempt fails over (then 503). */
  ATP_UPSTREAM_QUEUE_TIMEOUT_MS: z.preprocess(
    emptyToUndefined,
    z.coerce.number().int().min(0).max(600_000).default(1000),
  ),
  /** The whole request: every attempt, retry and backoff. */
  ATP_REQUEST_DEADLINE_MS: z.preprocess(
    emptyToUndefined,
    z.coerce.number().int().min(50).max(900_000).default(120_000),
  ),
  /** Retries of the same candidate on a retryable failure before falling back to the next. */
  ATP_RETRIES_PER_CANDIDATE: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(5).default(1)),
  /** Encrypts stored responses (POST /v1/responses with `store`) with the tenant's data key, as the gateway's memory. */
  ENCRYPTION_KEY: optionalString,
  /** How long a stored response (`store: true`) can be retrieved or continued. OpenAI keeps them 30 days. */
  ATP_RESPONSES_TTL_SECONDS: z.preprocess(
    emptyToUndefined,
    z.coerce
      .number()
      .int()
      .min(60)
      .max(366 * 86_400)
      .default(30 * 86_400),
  ),
  /** TTL of cached responses (routes with `cache: true`, or requests sending x-atp-cache-ttl). */
  ATP_CACHE_TTL_SECONDS: z.preprocess(
    emptyToUndefined,
    z.coerce
      .number()
      .int()
      .min(1)
      .max(30 * 86_400)
      .default(3600),
  ),
  /** What rate/token/concurrency limits do while Redis is unreachable (budgets always fail closed). */
  ATP_LIMITS_ON_REDIS_DOWN: eitherWord(['open', 'closed']),
  /** Export per-tenant budget spend as a metric label (bounded cardinality: off by default). */
  ATP_BUDGET_METRICS_PER_TENANT: bool(false),
  /**
   * A call's usage row and audit event are committed (one group commit shared by the calls that
   * finish together) before its last byte is sent, while the database is up. `false` writes them
   * in the background every 250–500 ms: a crash then loses what was still queued.
   */
  ATP_DURABLE_RECORDS: bool(true),
  /**
   * Router processes sharing the port (node:cluster). One Node process uses one CPU; the Cloud Run
   * service has 2. `auto` = the CPUs available. More than 1 needs REDIS_URL (shared limits).
   */
  ATP_ROUTER_WORKERS: z.preprocess(
    (v) => {
      const set = emptyToUndefined(v);
      return typeof set === 'string' && set.trim().toLowerCase() === 'auto' ? availableParallelism() : set;
    },
    z.coerce.number({ message: 'must be a number or auto' }).int().min(1).max(64).default(1),
  ),
});

export const gatewayEnvSchema = z.object({
  ...commonEnvShape,
  PORT: port(8000),
  ENCRYPTION_KEY: optionalString,
  PII_DETECTION_ENABLED: bool(true),
  /** Stored bytes (values + metadata) per tenant. */
  MEMORY_QUOTA_BYTES: z.preprocess(
    emptyToUndefined,
    z.coerce
      .number()
      .int()
      .min(1024)
      .default(100 * 1024 * 1024),
  ),
  /** Records per tenant. */
  MEMORY_QUOTA_RECORDS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).default(100_000)),
  /** Largest value as UTF-8 JSON (413 above it). */
  MEMORY_MAX_VALUE_BYTES: z.preprocess(
    emptyToUndefined,
    z.coerce
      .number()
      .int()
      .min(64)
      .default(1024 * 1024),
  ),
  /** How long a record's ciphertext stays in the Redis read-through cache. */
  MEMORY_CACHE_TTL_SECONDS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).default(300)),
  /** How often expired records are deleted. */
  MEMORY_SWEEP_INTERVAL_SECONDS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).default(30)),
});

export const cliEnvSchema = z.object({
  ...commonEnvShape,
  PORT: port(0),
  ENCRYPTION_KEY: optionalString,
});

export type RouterEnv = z.infer<typeof routerEnvSchema>;
export type GatewayEnv = z.infer<typeof gatewayEnvSchema>;
export type CliEnv = z.infer<typeof cliEnvSchema>;
export type CommonEnv = z.infer<z.ZodObject<typeof commonEnvShape>>;
