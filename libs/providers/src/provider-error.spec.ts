import { codeForStatus, errorBodyMessage, isRetryableStatus, parseRetryAfter } from './provider-error';
import { estimatePromptTokens, estimateTokens, estimateUsage } from './usage';

describe('provider errors', () => {
  it('parses Retry-After seconds, HTTP dates and retry-after-ms', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter({ 'retry-after': '7' }, now)).toBe(7000);
    expect(parseRetryAfter({ 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }, now)).toBe(30_000);
    expect(parseRetryAfter({ 'retry-after-ms': '250', 'retry-after': '7' }, now)).toBe(250);
    expect(parseRetryAfter({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(parseRetryAfter({}, now)).toBeUndefined();
  });

  it('classifies statuses', () => {
    expect([429, 500, 502, 503, 529, 408].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 422].some(isRetryableStatus)).toBe(false);
    expect(codeForStatus(529)).toBe('upstream_overloaded');
    expect(codeForStatus(502)).toBe('upstream_server_error');
    expect(codeForStatus(418)).toBe('upstream_http_error');
  });

  it('reads the vendor error message from any of the three shapes', () => {
    expect(errorBodyMessage('{"error":{"message":"openai says"}}')).toBe('openai says');
    expect(errorBodyMessage('{"type":"error","error":{"type":"x","message":"anthropic says"}}')).toBe(
      'anthropic says',
    );
    expect(errorBodyMessage('<html>bad gateway</html>')).toBe('<html>bad gateway</html>');
  });
});

describe('token estimator', () => {
  it('≈ chars/4, rounded up', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abcd')).toBe(1);
    expect(estimateTokens('abcde')).toBe(2);
  });

  it('counts messages, tool calls and tools; marks usage estimated', () => {
    const req = {
      model: 'm',
      messages: [
        { role: 'user' as const, content: 'abcdefgh' },
        {
          role: 'assistant' as const,
          content: null,
          tool_calls: [{ id: 'c', type: 'function' as const, function: { name: 'ab', arguments: '{}' } }],
        },
      ],
    };
    expect(estimatePromptTokens(req)).toBe(4 + 2 + 4 + 1);
    expect(estimateUsage(req, 'abcdefghij')).toEqual({
      prompt_tokens: 11,
      completion_tokens: 3,
      total_tokens: 14,
      estimated: true,
    });
  });
});
