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

/** Fields whose values are credentials, prompts or memory values: never logged. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["api-key"]',
  'req.headers["x-goog-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'authorization',
  'apiKey',
  'api_key',
  'key',
  'token',
  'secret',
  'password',
  'jwtSecret',
  'prompt',
  'messages',
  'value',
  '*.authorization',
  '*.apiKey',
  '*.api_key',
  '*.token',
  '*.accessToken',
  '*.secret',
  '*.clientSecret',
  '*.password',
  '*.jwtSecret',
  '*.prompt',
  '*.messages',
  '*.value',
];

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
    },
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
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
