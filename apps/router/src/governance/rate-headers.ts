import type { RateHeaders } from './governance.types';

/** A duration as OpenAI writes it in x-ratelimit-reset-*: `20ms`, `1s`, `6m0s`, `1h2m3.5s`. */
export function formatResetDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  if (total < 1000) return `${total}ms`;
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const s = (total % 60_000) / 1000;
  const sec = `${Number.isInteger(s) ? s : s.toFixed(3).replace(/0+$/, '')}s`;
  if (h) return `${h}h${m}m${sec}`;
  if (m) return `${m}m${sec}`;
  return sec;
}

/** `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` for the limits that apply. */
export function rateLimitHeaders(h: RateHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, v] of [
    ['requests', h.requests],
    ['tokens', h.tokens],
  ] as const) {
    if (!v) continue;
    out[`x-ratelimit-limit-${name}`] = String(v.limit);
    out[`x-ratelimit-remaining-${name}`] = String(v.remaining);
    out[`x-ratelimit-reset-${name}`] = formatResetDuration(v.resetMs);
  }
  return out;
}

/** Retry-After in whole seconds, at least 1. */
export function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}
