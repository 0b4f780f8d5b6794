import { AtpError } from './errors';
import { parseJsonBody } from './json-body';

const codeOf = (fn: () => unknown): string | null => {
  try {
    fn();
    return null;
  } catch (err) {
    return err instanceof AtpError ? err.code : 'not-an-AtpError';
  }
};

describe('parseJsonBody', () => {
  it('parses JSON; an empty body is no body only for DELETE', () => {
    expect(parseJsonBody('{"a":[1,"x"]}', 'POST')).toEqual({ a: [1, 'x'] });
    expect(parseJsonBody('', 'DELETE')).toBeUndefined();
    expect(parseJsonBody('  \n', 'DELETE')).toBeUndefined();
    expect(codeOf(() => parseJsonBody('', 'POST'))).toBe('invalid_json');
    expect(codeOf(() => parseJsonBody('{"a":', 'PUT'))).toBe('invalid_json');
  });

  it('refuses __proto__ and constructor.prototype at any depth, also when spelled with escapes', () => {
    for (const text of [
      '{"__proto__":{"x":1}}',
      '[{"a":{"b":[{"__proto__":null}]}}]',
      '{"\\u005f_proto__":{}}',
      '{"constructor":{"prototype":{"x":1}}}',
    ])
      expect(codeOf(() => parseJsonBody(text, 'POST'))).toBe('forbidden_json_key');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('accepts the words as values and a plain "constructor" key', () => {
    expect(
      parseJsonBody('{"text":"__proto__","constructor":"x","c":{"constructor":{"name":"y"}}}', 'POST'),
    ).toEqual({
      text: '__proto__',
      constructor: 'x',
      c: { constructor: { name: 'y' } },
    });
    expect(parseJsonBody('"\\u00e9"', 'POST')).toBe('é');
  });

  it('walks a 100k-deep array without exhausting the stack', () => {
    const deep = '['.repeat(100_000) + '"\\u0041"' + ']'.repeat(100_000);
    expect(codeOf(() => parseJsonBody(deep, 'POST'))).toBeNull();
  });
});
