import { createAppLogger, logRequestLine, requestIdFrom, scrubSensitive } from './logging';

describe('scrubSensitive', () => {
  it('redacts credential, prompt and value fields one level deep, leaving others untouched', () => {
    const input = {
      message: 'ok',
      authorization: 'Bearer atp_x',
      nested: { apiKey: 'sk-1', messages: [{ role: 'user', content: 'secret prompt' }], model: 'gpt-4o' },
      count: 3,
    };
    const out = scrubSensitive(input);
    expect(out).toEqual({
      message: 'ok',
      authorization: '[REDACTED]',
      nested: { apiKey: '[REDACTED]', messages: '[REDACTED]', model: 'gpt-4o' },
      count: 3,
    });
    expect(input.authorization).toBe('Bearer atp_x'); // not mutated
  });

  it('returns the same object when nothing is sensitive (no allocation on the common path)', () => {
    const input = { message: 'GET /health 200', res: { statusCode: 200 } };
    expect(scrubSensitive(input)).toBe(input);
  });
});

describe('requestIdFrom', () => {
  it('keeps a well-formed id and replaces anything else', () => {
    expect(requestIdFrom('abc-123_x.y:z')).toBe('abc-123_x.y:z');
    expect(requestIdFrom('has space')).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdFrom('x'.repeat(129))).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdFrom(undefined)).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('logRequestLine', () => {
  function capture() {
    const lines: Record<string, unknown>[] = [];
    const stream = { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) };
    return { lines, logger: createAppLogger('INFO', 'test', stream) };
  }

  it('writes method, path without query, status, time and request id; never the query string', () => {
    const { lines, logger } = capture();
    logRequestLine(logger, {
      id: 'req-1',
      method: 'POST',
      url: '/v1/chat/completions?api_key=secret',
      statusCode: 200,
      elapsedMs: 12.34567,
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      severity: 'INFO',
      service: 'test',
      'x-request-id': 'req-1',
      message: 'POST /v1/chat/completions 200',
      req: { method: 'POST', path: '/v1/chat/completions' },
      res: { statusCode: 200 },
      responseTime: 12.346,
    });
    expect(JSON.stringify(lines[0])).not.toContain('secret');
  });

  it('5xx at ERROR, aborted requests say so, probes are not logged', () => {
    const { lines, logger } = capture();
    logRequestLine(logger, { id: 'a', method: 'GET', url: '/v1/models', statusCode: 502, elapsedMs: 1 });
    logRequestLine(logger, {
      id: 'b',
      method: 'POST',
      url: '/x',
      statusCode: 200,
      elapsedMs: 1,
      aborted: true,
    });
    for (const url of ['/health', '/ready', '/metrics?x=1'])
      logRequestLine(logger, { id: 'c', method: 'GET', url, statusCode: 200, elapsedMs: 1 });
    expect(lines.map((l) => [l.severity, l.message])).toEqual([
      ['ERROR', 'GET /v1/models 502'],
      ['INFO', 'POST /x aborted'],
    ]);
  });
});
