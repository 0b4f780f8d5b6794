import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino, { type DestinationStream, type LoggerOptions } from 'pino';
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

/** Base pino options: JSON lines with Cloud Logging's `severity` and `message`. */
export function baseLoggerOptions(level: string, service: string): LoggerOptions {
  return {
    level: PINO_LEVEL[level] ?? 'info',
    messageKey: 'message',
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ severity: SEVERITY[label] ?? 'DEFAULT' }),
      log: (obj) => scrubSensitive(obj),
    },
  };
}

const QUIET_PATHS = new Set(['/health', '/ready', '/metrics']);

type Req = IncomingMessage & { originalUrl?: string };

/** The request path without its query string. Under middie `url` may be rewritten, so prefer originalUrl. */
function pathOf(req: Req): string {
  const url = req.originalUrl ?? req.url;
  if (!url) return '';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** pino-http options for nestjs-pino. Query strings and headers are left out of request logs. */
export function httpLoggerOptions(
  level: string,
  service: string,
  stream?: DestinationStream,
): PinoHttpOptions {
  return {
    ...baseLoggerOptions(level, service),
    stream,
    quietReqLogger: true,
    quietResLogger: true,
    customAttributeKeys: { reqId: 'x-request-id' },
    genReqId: (req: IncomingMessage) =>
      (req as IncomingMessage & { id?: string }).id ?? requestIdFrom(req.headers['x-request-id']),
    autoLogging: { ignore: (req: IncomingMessage) => QUIET_PATHS.has(pathOf(req)) },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
    customSuccessMessage: (req, res) => `${req.method} ${pathOf(req)} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${pathOf(req)} ${res.statusCode}`,
    serializers: {
      req: (req: IncomingMessage & { id?: string; raw?: IncomingMessage }) => ({
        method: req.method,
        path: pathOf(req),
      }),
      res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
    },
  } as PinoHttpOptions;
}
