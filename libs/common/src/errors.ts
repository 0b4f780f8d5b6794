/** OpenAI-shaped error types (CONTRACT §4). */
export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'conflict_error'
  | 'request_too_large'
  | 'unsupported_media_type'
  | 'policy_error'
  | 'rate_limit_error'
  | 'api_error'
  | 'upstream_error'
  | 'timeout_error'
  | 'service_unavailable';

export interface ErrorEnvelope {
  error: { message: string; type: ErrorType; code: string | null; param: string | null };
}

/**
 * Renders the envelope in another wire shape. A door whose clients expect their vendor's error
 * shape (the Anthropic Messages API) sets one as `renderError` in its routes' Fastify config
 * (`@RouteConfig`); every error answered on those routes — the guard's 401/403, a body that does
 * not parse, a refusal, an upstream failure — then leaves in that shape, headers unchanged.
 */
export type ErrorRenderer = (status: number, envelope: ErrorEnvelope) => unknown;

/** The Fastify route config key of a route's ErrorRenderer. */
export interface ErrorRouteConfig {
  renderError?: ErrorRenderer;
}

const TYPE_BY_STATUS: Record<number, ErrorType> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  405: 'invalid_request_error',
  406: 'invalid_request_error',
  409: 'conflict_error',
  412: 'conflict_error',
  413: 'request_too_large',
  415: 'unsupported_media_type',
  422: 'policy_error',
  429: 'rate_limit_error',
  502: 'upstream_error',
  503: 'service_unavailable',
  504: 'timeout_error',
};

export function errorTypeForStatus(status: number): ErrorType {
  return TYPE_BY_STATUS[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

export interface AtpErrorOptions {
  param?: string | null;
  type?: ErrorType;
  /** Extra response headers, e.g. Retry-After. */
  headers?: Record<string, string>;
  cause?: unknown;
  /** For a 503: the dependency that is down (`PostgreSQL`, `Redis`), counted on its outage reporter. */
  dependency?: string;
}

/**
 * The one error services throw. `code` is stable and machine-readable; the global filter turns
 * it into the envelope. Never match on `message`.
 */
export class AtpError extends Error {
  readonly type: ErrorType;
  readonly param: string | null;
  readonly headers: Record<string, string>;
  readonly dependency: string | null;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options: AtpErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AtpError';
    this.type = options.type ?? errorTypeForStatus(status);
    this.param = options.param ?? null;
    this.headers = options.headers ?? {};
    this.dependency = options.dependency ?? null;
  }

  toEnvelope(): ErrorEnvelope {
    return { error: { message: this.message, type: this.type, code: this.code, param: this.param } };
  }

  static badRequest(code: string, message: string, param?: string): AtpError {
    return new AtpError(400, code, message, { param });
  }
  static unauthorized(code: string, message: string): AtpError {
    return new AtpError(401, code, message, { headers: { 'www-authenticate': 'Bearer' } });
  }
  static forbidden(code: string, message: string): AtpError {
    return new AtpError(403, code, message);
  }
  static notFound(code: string, message: string): AtpError {
    return new AtpError(404, code, message);
  }
  /** 503 with Retry-After: a dependency is down (named, when known, for the outage reporter). */
  static unavailable(code: string, message: string, dependency?: string): AtpError {
    return new AtpError(503, code, message, { headers: { 'retry-after': '5' }, dependency });
  }
}
