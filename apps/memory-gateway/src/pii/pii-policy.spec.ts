import { stricter } from './pii-policy.service';

describe('stricter', () => {
  it.each([
    [null, null, null],
    ['off', null, 'off'],
    [null, 'block', 'block'],
    ['redact', 'off', 'redact'],
    ['off', 'redact', 'redact'],
    ['block', 'redact', 'block'],
    ['redact', 'block', 'block'],
  ])('stricter(%s, %s) = %s', (a, b, expected) => {
    expect(stricter(a, b)).toBe(expected);
  });
});
