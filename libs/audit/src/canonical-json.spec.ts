import { canonicalJson } from './canonical-json';

describe('canonicalJson (RFC 8785 style)', () => {
  it('sorts keys at every depth and drops whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    );
    expect(canonicalJson({ b: 1, a: 2 })).toBe(canonicalJson({ a: 2, b: 1 }));
  });

  it('sorts keys by UTF-16 code units (the RFC 8785 §3.2.3 example)', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    // U+1F600 (surrogates D83D DE00) sorts before U+FB33 by code unit, though not by code point.
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('serialises numbers in ECMAScript shortest form (RFC 8785 §3.2.2.3)', () => {
    expect(
      canonicalJson([
        0, -0, 1, -1, 1.5, 1e21, 1e-7, 123456789012345680000, 0.000001, 333333333.3333333, 5e-324,
      ]),
    ).toBe('[0,0,1,-1,1.5,1e+21,1e-7,123456789012345680000,0.000001,333333333.3333333,5e-324]');
    expect(canonicalJson(4.5e15)).toBe('4500000000000000');
  });

  it('escapes strings minimally and keeps non-ASCII as UTF-8', () => {
    expect(canonicalJson('é "q" \\ \n \u0001 \u2028 😀')).toBe('"é \\"q\\" \\\\ \\n \\u0001 \u2028 😀"');
  });

  it('omits undefined properties and maps undefined array items to null', () => {
    expect(canonicalJson({ a: undefined, b: [undefined, true, false] })).toBe('{"b":[null,true,false]}');
  });

  it.each([
    [NaN],
    [Infinity],
    [BigInt(1)],
    [() => 1],
    [Symbol('s')],
    [new Date(0)],
    [new Map()],
    ['\ud800'],
    [{ k: '\udc00x' }],
  ])('rejects non-JSON input %p', (value) => {
    expect(() => canonicalJson(value)).toThrow(TypeError);
  });

  it('accepts objects without a prototype', () => {
    const o = Object.create(null) as Record<string, number>;
    o.b = 2;
    o.a = 1;
    expect(canonicalJson(o)).toBe('{"a":1,"b":2}');
  });
});
