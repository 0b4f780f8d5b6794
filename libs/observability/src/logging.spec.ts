import { requestIdFrom, scrubSensitive } from './logging';

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
