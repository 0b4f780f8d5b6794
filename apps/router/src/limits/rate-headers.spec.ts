import { formatResetDuration, rateLimitHeaders, retryAfterSeconds } from './rate-headers';

describe('OpenAI rate-limit headers', () => {
  it('formats reset durations as OpenAI does', () => {
    expect(formatResetDuration(20)).toBe('20ms');
    expect(formatResetDuration(1000)).toBe('1s');
    expect(formatResetDuration(1500)).toBe('1.5s');
    expect(formatResetDuration(360_000)).toBe('6m0s');
    expect(formatResetDuration(3_723_500)).toBe('1h2m3.5s');
    expect(formatResetDuration(12_340)).toBe('12.34s');
    expect(formatResetDuration(61_001)).toBe('1m1.001s');
  });
  it('writes every millisecond of a minute with at most three decimals, no float noise', () => {
    for (let ms = 1000; ms < 60_000; ms++) {
      const s = ms / 1000;
      const expected = `${Number.isInteger(s) ? s : s.toFixed(3).replace(/0+$/, '')}s`;
      if (formatResetDuration(ms) !== expected)
        throw new Error(`${ms}: ${formatResetDuration(ms)} != ${expected}`);
    }
  });
  it('writes only the dimensions that are limited', () => {
    expect(rateLimitHeaders({ requests: { limit: 100, remaining: 99, resetMs: 59_000 } })).toEqual({
      'x-ratelimit-limit-requests': '100',
      'x-ratelimit-remaining-requests': '99',
      'x-ratelimit-reset-requests': '59s',
    });
    expect(rateLimitHeaders({})).toEqual({});
  });
  it('rounds Retry-After up to whole seconds, at least 1', () => {
    expect(retryAfterSeconds(1)).toBe('1');
    expect(retryAfterSeconds(1001)).toBe('2');
    expect(retryAfterSeconds(0)).toBe('1');
  });
});
