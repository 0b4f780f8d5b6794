import type { ErrorEnvelope } from '@app/common';

/** Anthropic's error body: `{"type":"error","error":{"type","message"}}`. */
export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
}

/** Anthropic's error types by HTTP status (docs: "Errors"); the status itself is kept as ATP answers it. */
const TYPE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  // ATP's 503 (shutting down, a dependency down) asks for a retry, as Anthropic's overload does.
  503: 'overloaded_error',
  529: 'overloaded_error',
};

/** Other 4xx (409, 415, 422 a PII block, …) are invalid requests; other 5xx (502, 504) API errors. */
export function anthropicErrorType(status: number): string {
  return TYPE_BY_STATUS[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

/**
 * The error renderer of the Messages door's routes (their ErrorRouteConfig): ATP's envelope in
 * Anthropic's shape, with the same status, headers and message.
 */
export function toAnthropicError(status: number, envelope: ErrorEnvelope): AnthropicErrorBody {
  return { type: 'error', error: { type: anthropicErrorType(status), message: envelope.error.message } };
}
