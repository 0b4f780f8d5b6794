import type { RateHeaders } from './limits.types';

/** A duration as OpenAI writes it in x-ratelimit-reset-*: `20ms`, `1s`, `6m0s`, `1h2m3.5s`. */
export function formatResetDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  if (total < 1000) return `${total}ms`;
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  // A whole number of milliseconds over 1000 prints as at most three decimals, trailing zeros dropped.
  const sec = `${(total % 60_000) / 1000}s`;
  if (h) return `${h}h${m}m${sec}`;
  if (m) return `${m}m${sec}`;
  return sec;
}

/** `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` for the limits that apply. */
export function rateLimitHeaders(h: RateHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  if (h.requests) {
    out['x-ratelimit-limit-requests'] = String(h.requests.limit);
    out['x-ratelimit-remaining-requests'] = String(h.requests.remaining);
    out['x-ratelimit-reset-requests'] = formatResetDuration(h.requests.resetMs);
  }
  if (h.tokens) {
    out['x-ratelimit-limit-tokens'] = String(h.tokens.limit);
    out['x-ratelimit-remaining-tokens'] = String(h.tokens.remaining);
    out['x-ratelimit-reset-tokens'] = formatResetDuration(h.tokens.resetMs);
  }
  return out;
}

/** Retry-After in whole seconds, at least 1. */
export function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}
