import { applyPiiToJson, MAX_JSON_DEPTH } from './json';

const value = {
  user: { email: 'jane@example.com', age: 41, tags: ['vip', 'call +44 20 7946 0958'] },
  'a/b~c': 'card 4242 4242 4242 4242',
  'bob@example.com': 'key is left alone',
  ok: true,
  none: null,
};

describe('applyPiiToJson', () => {
  it('redacts every string value and returns a new value without mutating the input', () => {
    const before = JSON.stringify(value);
    const r = applyPiiToJson(value, 'redact');
    expect(r.value).toEqual({
      user: { email: '<EMAIL>', age: 41, tags: ['vip', 'call <PHONE>'] },
      'a/b~c': 'card <CREDIT_CARD>',
      'bob@example.com': 'key is left alone',
      ok: true,
      none: null,
    });
    expect(JSON.stringify(value)).toBe(before);
    expect(r.value).not.toBe(value);
    expect(r.action).toBe('redacted');
  });

  it('reports each entity with a JSON Pointer and offsets inside its string, plus a merged summary', () => {
    const r = applyPiiToJson(value, 'detect');
    expect(r.entities.map((e) => [e.path, e.type, e.start, e.end])).toEqual([
      ['/user/email', 'EMAIL', 0, 16],
      ['/user/tags/1', 'PHONE', 5, 21],
      ['/a~1b~0c', 'CREDIT_CARD', 5, 24],
    ]);
    expect(r.summary).toEqual([
      { type: 'EMAIL', count: 1 },
      { type: 'PHONE', count: 1 },
      { type: 'CREDIT_CARD', count: 1 },
    ]);
    expect(r.value).toBe(value);
  });

  it('blocks without rewriting', () => {
    const r = applyPiiToJson(value, 'block');
    expect(r).toMatchObject({ blocked: true, action: 'blocked' });
    expect(r.value).toBe(value);
  });

  it('handles bare strings, clean values and off', () => {
    expect(applyPiiToJson('mail jane@example.com', 'redact').value).toBe('mail <EMAIL>');
    expect(applyPiiToJson({ a: [1, 'x'] }, 'redact')).toMatchObject({
      action: 'none',
      entities: [],
      summary: [],
    });
    expect(applyPiiToJson(value, 'off')).toEqual({
      value,
      entities: [],
      action: 'off',
      blocked: false,
      summary: [],
    });
  });

  it('copies an own "__proto__" key as data instead of changing the prototype', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": "jane@example.com"}}') as Record<string, unknown>;
    const out = applyPiiToJson(parsed, 'redact').value as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({ polluted: '<EMAIL>' });
  });

  it('refuses values nested deeper than MAX_JSON_DEPTH', () => {
    let deep: unknown = 'x';
    for (let i = 0; i <= MAX_JSON_DEPTH; i++) deep = [deep];
    expect(() => applyPiiToJson(deep, 'redact')).toThrow(
      expect.objectContaining({ code: 'PII_JSON_TOO_DEEP' }),
    );
  });
});
