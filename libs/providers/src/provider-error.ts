import type { Usage } from './openai-types';

/** Stable codes of upstream failures. The router maps them; never match on `message`. */
export type ProviderErrorCode =
  | 'upstream_rate_limited'
  | 'upstream_overloaded'
  | 'upstream_server_error'
  | 'upstream_bad_request'
  | 'upstream_auth_failed'
  | 'upstream_not_found'
  | 'upstream_http_error'
  | 'upstream_timeout'
  | 'upstream_stream_timeout'
  | 'upstream_connection_error'
  | 'upstream_invalid_response'
  | 'upstream_stream_incomplete'
  | 'upstream_stream_error'
  | 'upstream_unsupported'
  | 'upstream_pool_exhausted'
  | 'client_aborted';

export interface ProviderErrorInit {
  provider: string;
  /** The upstream HTTP status, or the gateway-side equivalent (502 network/protocol, 504 timeout, 499 aborted). */
  status: number;
  retryable: boolean;
  code: ProviderErrorCode;
  message: string;
  retryAfterMs?: number;
  /** For streams: usage of what was delivered before the failure (estimated where the vendor said nothing). */
  partialUsage?: Usage;
}

/** Every upstream failure, whatever the vendor, becomes exactly this. */
export class ProviderError extends Error {
  readonly provider: string;
  readonly status: number;
  readonly retryable: boolean;
  readonly code: ProviderErrorCode;
  readonly retryAfterMs?: number;
  partialUsage?: Usage;

  constructor(init: ProviderErrorInit) {
    super(init.message);
    this.name = 'ProviderError';
    this.provider = init.provider;
    this.status = init.status;
    this.retryable = init.retryable;
    this.code = init.code;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
    if (init.partialUsage) this.partialUsage = init.partialUsage;
  }
}

/** 408, 409, 429 and every 5xx (incl. Anthropic's 529) are worth retrying or falling back. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

export function codeForStatus(status: number): ProviderErrorCode {
  if (status === 429) return 'upstream_rate_limited';
  if (status === 503 || status === 529) return 'upstream_overloaded';
  if (status >= 500) return 'upstream_server_error';
  if (status === 401 || status === 403) return 'upstream_auth_failed';
  if (status === 404) return 'upstream_not_found';
  if (status === 400 || status === 413 || status === 422) return 'upstream_bad_request';
  return 'upstream_http_error';
}

type HeaderBag = Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Delay from `retry-after-ms` (OpenAI) or `Retry-After` (seconds or an HTTP date).
 * `now` is injectable for tests.
 */
export function parseRetryAfter(headers: HeaderBag, now: number = Date.now()): number | undefined {
  const ms = header(headers, 'retry-after-ms');
  if (ms && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.round(Number(ms));
  const ra = header(headers, 'retry-after')?.trim();
  if (!ra) return undefined;
  if (/^\d+(\.\d+)?$/.test(ra)) return Math.round(Number(ra) * 1000);
  const at = Date.parse(ra);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Builds the ProviderError of a non-2xx upstream answer; `message` comes from the vendor's error body. */
export function httpProviderError(
  provider: string,
  status: number,
  headers: HeaderBag,
  message: string,
  retryAfterMs?: number,
): ProviderError {
  return new ProviderError({
    provider,
    status,
    retryable: isRetryableStatus(status),
    code: codeForStatus(status),
    message: `${provider} returned HTTP ${status}: ${message}`,
    retryAfterMs: retryAfterMs ?? parseRetryAfter(headers),
  });
}

export function timeoutError(provider: string, what: string): ProviderError {
  return new ProviderError({
    provider,
    status: 504,
    retryable: true,
    code: 'upstream_timeout',
    message: `${provider} did not answer within the ${what} timeout`,
  });
}

/**
 * Every socket of the adapter's pool stayed busy for the queue timeout: the gateway's own limit,
 * not the upstream's failure — retryable, so routing tries the next candidate.
 */
export function poolExhaustedError(provider: string): ProviderError {
  return new ProviderError({
    provider,
    status: 503,
    retryable: true,
    code: 'upstream_pool_exhausted',
    message: `every connection to ${provider} is busy (ATP_UPSTREAM_CONNECTIONS); no socket freed up in time`,
  });
}

export function streamTimeoutError(provider: string, ms: number): ProviderError {
  return new ProviderError({
    provider,
    status: 504,
    retryable: true,
    code: 'upstream_stream_timeout',
    message:
      ms > 0
        ? `${provider} stream stalled: no data for ${ms} ms`
        : `${provider} stream stalled (body timeout)`,
  });
}

export function abortedError(provider: string): ProviderError {
  return new ProviderError({
    provider,
    status: 499,
    retryable: false,
    code: 'client_aborted',
    message: `request to ${provider} aborted by the caller`,
  });
}

export function invalidResponseError(provider: string, detail: string): ProviderError {
  return new ProviderError({
    provider,
    status: 502,
    retryable: true,
    code: 'upstream_invalid_response',
    message: `${provider} sent an invalid response: ${detail}`,
  });
}

export function incompleteStreamError(provider: string): ProviderError {
  return new ProviderError({
    provider,
    status: 502,
    retryable: true,
    code: 'upstream_stream_incomplete',
    message: `${provider} stream ended without its terminator`,
  });
}

export function unsupportedError(provider: string, what: string): ProviderError {
  return new ProviderError({
    provider,
    status: 400,
    retryable: false,
    code: 'upstream_unsupported',
    message: `${provider} does not support ${what}`,
  });
}

/** Reads `error.message` of an OpenAI/Anthropic/Google error body without trusting its shape. */
export function errorBodyMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    if (typeof body.error === 'string') return body.error;
    if (body.error && typeof body.error.message === 'string') return body.error.message;
    if (typeof body.message === 'string') return body.message;
  } catch {
    // not JSON: fall through to the raw (truncated) text
  }
  return text.slice(0, 200) || 'no error body';
}
