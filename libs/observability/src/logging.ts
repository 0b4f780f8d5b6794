import { randomUUID } from 'node:crypto';
import type { Params } from 'nestjs-pino';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { Options as PinoHttpOptions } from 'pino-http';

const SEVERITY: Record<string, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

const PINO_LEVEL: Record<string, string> = { DEBUG: 'debug', INFO: 'info', WARNING: 'warn', ERROR: 'error' };

/**
 * Keys whose values are credentials, prompts or memory values: never logged. Request logs carry
 * no headers, bodies or query strings at all; this catches such a field passed to a log call.
 */
export const SENSITIVE_KEYS = new Set([
  'authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'apikey',
  'api_key',
  'key',
  'token',
  'accesstoken',
  'access_token',
  'secret',
  'clientsecret',
  'client_secret',
  'password',
  'jwtsecret',
  'prompt',
  'messages',
  'value',
  'headers',
]);

/**
 * Replaces sensitive values (two levels deep). Runs only for lines actually written, unlike
 * pino's `redact`, whose cost is paid on every per-request child logger.
 */
export function scrubSensitive(obj: Record<string, unknown>, depth = 0): Record<string, unknown> {
  let out: Record<string, unknown> | null = null;
  for (const [k, v] of Object.entries(obj)) {
    let next = v;
    if (SENSITIVE_KEYS.has(k.toLowerCase())) next = '[REDACTED]';
    else if (depth < 1 && v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Error)) {
      next = scrubSensitive(v as Record<string, unknown>, depth + 1);
    }
    if (next !== v) (out ??= { ...obj })[k] = next;
  }
  return out ?? obj;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's x-request-id when it is well-formed, else a new UUID. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const v = Array.isArray(header) ? header[0] : header;
  return v && REQUEST_ID.test(v) ? v : randomUUID();
}

let lastMs = -1;
let lastTime = '';

/** pino's isoTime, formatted once per millisecond (a busy service writes several lines per ms). */
function isoTime(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}

/** Base pino options: JSON lines with Cloud Logging's `severity` and `message`. */
export function baseLoggerOptions(level: string, service: string): LoggerOptions {
  return {
    level: PINO_LEVEL[level] ?? 'info',
    messageKey: 'message',
    base: { service },
    timestamp: isoTime,
    formatters: {
      level: (label) => ({ severity: SEVERITY[label] ?? 'DEFAULT' }),
      log: (obj) => scrubSensitive(obj),
    },
  };
}

const QUIET_PATHS = new Set(['/health', '/ready', '/metrics']);

/** The path of a URL without its query string (query strings are never logged). */
function pathOf(url: string | undefined): string {
  if (!url) return '';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** One pino logger per app: application lines (through nestjs-pino) and request lines share it. */
export function createAppLogger(level: string, service: string, stream?: DestinationStream): Logger {
  const options = baseLoggerOptions(level, service);
  return stream ? pino(options, stream) : pino(options);
}

/**
 * nestjs-pino options. Its per-request pino-http middleware is not mounted (`forRoutes: []`):
 * a child logger per request, the middleware layer and the AsyncLocalStorage context it opens
 * (which turns on promise hooks for every promise in the process); dropping them cut the
 * router's CPU per request by ~30% (measured). Request lines come from {@link logRequestLine} in a Fastify onResponse hook instead.
 */
export function nestLoggerParams(logger: Logger): Params {
  return { pinoHttp: { logger } as PinoHttpOptions, forRoutes: [] };
}

export interface RequestLineFacts {
  id: string;
  method: string;
  url: string | undefined;
  statusCode: number;
  elapsedMs: number;
  /** The client went away before the response was complete. */
  aborted?: boolean;
}

/**
 * The request line: `"GET /v1/models 200"` with the request id, method, path (no query), status
 * and response time. Never headers or bodies. /health, /ready and /metrics are not logged.
 */
export function logRequestLine(logger: Logger, r: RequestLineFacts): void {
  const path = pathOf(r.url);
  if (QUIET_PATHS.has(path)) return;
  const fields = {
    'x-request-id': r.id,
    req: { method: r.method, path },
    res: { statusCode: r.statusCode },
    responseTime: Math.round(r.elapsedMs * 1000) / 1000,
  };
  const message = `${r.method} ${path} ${r.aborted ? 'aborted' : r.statusCode}`;
  // A 503 is a dependency outage answered as designed: its reporter logs the outage once
  // (start, summaries, end), so the request lines stay at info instead of one ERROR each.
  if (r.statusCode >= 500 && r.statusCode !== 503) logger.error(fields, message);
  else logger.info(fields, message);
}
