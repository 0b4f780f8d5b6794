import { HttpException } from '@nestjs/common';
import { unavailableDependency } from './dependency-errors';
import { AtpError, errorTypeForStatus, type ErrorEnvelope } from './errors';

export interface MappedError {
  status: number;
  body: ErrorEnvelope;
  headers: Record<string, string>;
  /** True when this is our fault (a bug), worth logging at error level. */
  unexpected: boolean;
  /**
   * The dependency whose outage this answer reports (`PostgreSQL`, `Redis`): counted on its
   * outage reporter, which logs the outage once, instead of one line per request.
   */
  dependency?: string;
}

/** Seconds a client should wait before retrying a request refused because a dependency is down. */
export const OUTAGE_RETRY_AFTER_SECONDS = '5';

/** Fastify's own errors for things a client sent, by code. */
const FASTIFY_CLIENT_ERRORS: Record<string, { status: number; code: string; message?: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'unsupported_media_type',
    message: 'Unsupported Content-Type: send the request body as application/json',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'invalid_content_length' },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'invalid_json',
    message: 'The request body is empty but Content-Type is application/json',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'request_too_large' },
  FST_ERR_CTP_INVALID_TYPE: { status: 400, code: 'invalid_content_type' },
  FST_ERR_BAD_URL: { status: 400, code: 'invalid_url' },
  FST_ERR_ASYNC_CONSTRAINT: { status: 400, code: 'invalid_request' },
};

const CODE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  412: 'precondition_failed',
  413: 'request_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'rate_limited',
  503: 'service_unavailable',
};

function envelope(status: number, code: string, message: string, param: string | null = null): ErrorEnvelope {
  return { error: { message, type: errorTypeForStatus(status), code, param } };
}

function httpExceptionMessage(ex: HttpException): string {
  const res = ex.getResponse();
  if (typeof res === 'string') return res;
  const msg = (res as { message?: unknown }).message;
  if (Array.isArray(msg)) return msg.join('; ');
  if (typeof msg === 'string') return msg;
  return ex.message;
}

/**
 * Maps anything thrown while serving a request to the CONTRACT §4 envelope. Unknown errors
 * become a 500 without their message (it may hold internals); everything a client can cause is
 * a 4xx.
 */
export function mapError(err: unknown): MappedError {
  if (err instanceof AtpError) {
    return {
      status: err.status,
      body: err.toEnvelope(),
      headers: err.headers,
      // A 503 is a known outage answer: its dependency's reporter logs the outage, not each request.
      unexpected: err.status >= 500 && err.status !== 503,
      dependency: err.dependency ?? undefined,
    };
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    let message = httpExceptionMessage(err);
    if (status === 404 && /^Cannot (GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS)/.test(message)) {
      message = `Unknown route: ${message.replace(/^Cannot /, '')}`;
    }
    return {
      status,
      body: envelope(status, CODE_BY_STATUS[status] ?? 'error', message),
      headers: {},
      unexpected: status >= 500,
    };
  }
  const dependency = unavailableDependency(err);
  if (dependency) {
    const code = dependency === 'Redis' ? 'redis_unavailable' : 'database_unavailable';
    return {
      status: 503,
      body: envelope(
        503,
        code,
        `The ${dependency === 'Redis' ? 'cache' : 'database'} is temporarily unavailable; retry shortly`,
      ),
      headers: { 'retry-after': OUTAGE_RETRY_AFTER_SECONDS },
      unexpected: false,
      dependency,
    };
  }
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown } | null;
  if (e && typeof e.code === 'string' && FASTIFY_CLIENT_ERRORS[e.code]) {
    const known = FASTIFY_CLIENT_ERRORS[e.code];
    const message = known.message ?? (typeof e.message === 'string' ? e.message : 'Invalid request');
    return {
      status: known.status,
      body: envelope(known.status, known.code, message),
      headers: {},
      unexpected: false,
    };
  }
  if (err instanceof SyntaxError) {
    return {
      status: 400,
      body: envelope(400, 'invalid_json', `Invalid JSON: ${err.message}`),
      headers: {},
      unexpected: false,
    };
  }
  if (e && typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const status = e.statusCode;
    const message = typeof e.message === 'string' ? e.message : 'Invalid request';
    return {
      status,
      body: envelope(status, CODE_BY_STATUS[status] ?? 'invalid_request', message),
      headers: {},
      unexpected: false,
    };
  }
  return {
    status: 500,
    body: envelope(500, 'internal_error', 'Internal error. The request id identifies it in the logs.'),
    headers: {},
    unexpected: true,
  };
}
