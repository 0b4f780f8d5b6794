import { detectPii, resolveOverlaps } from './detect';
import type { PiiEntity } from './pii.types';

const TEXT = 'Mail jane@example.com, call +44 20 7946 0958, card 4242 4242 4242 4242, host 203.0.113.42.';

describe('detectPii', () => {
  it('returns typed, scored, sorted entities with offsets into the input and no text by default', () => {
    const entities = detectPii(TEXT);
    expect(entities.map((e) => [e.type, TEXT.slice(e.start, e.end)])).toEqual([
      ['EMAIL', 'jane@example.com'],
      ['PHONE', '+44 20 7946 0958'],
      ['CREDIT_CARD', '4242 4242 4242 4242'],
      ['IP_ADDRESS', '203.0.113.42'],
    ]);
    for (const e of entities) {
      expect(e.score).toBeGreaterThanOrEqual(0.5);
      expect(e.score).toBeLessThanOrEqual(1);
      expect(e).not.toHaveProperty('text');
    }
  });

  it('counts offsets in UTF-16 code units, like JS strings', () => {
    const text = '👋🏽 héllo — mail ünï@example.com? no: uni@example.com';
    const [e] = detectPii(text);
    expect(text.slice(e.start, e.end)).toBe('uni@example.com');
    expect(e.start).toBe(text.indexOf('uni@'));
  });

  it('includes the matched text only on request', () => {
    expect(detectPii('x jane@example.com', { includeText: true })[0].text).toBe('jane@example.com');
  });

  it('limits detection to the requested types', () => {
    expect(detectPii(TEXT, { types: ['IP_ADDRESS', 'EMAIL'] }).map((e) => e.type)).toEqual([
      'EMAIL',
      'IP_ADDRESS',
    ]);
  });

  it('rejects an unknown type (types may come from a request body)', () => {
    expect(() => detectPii(TEXT, { types: ['PASSPORT' as never] })).toThrow(
      expect.objectContaining({ code: 'PII_UNKNOWN_TYPE' }),
    );
  });

  it('drops findings below minScore', () => {
    const text = 'value 4155550148 here';
    expect(detectPii(text)).toEqual([]);
    expect(detectPii(text, { minScore: 0.2 }).map((e) => e.type)).toEqual(['PHONE']);
  });

  it('returns nothing for empty or PII-free text', () => {
    expect(detectPii('')).toEqual([]);
    expect(detectPii('Explain TCP vs UDP in version 1.2.3 of the notes, 2024-05-06.')).toEqual([]);
  });

  describe('allowList', () => {
    it('skips exact strings (emails case-insensitively) and regular expressions', () => {
      const allowList = ['+44 20 7946 0958', 'JANE@EXAMPLE.COM', /^203\.0\.113\./];
      expect(detectPii(TEXT, { allowList }).map((e) => e.type)).toEqual(['CREDIT_CARD']);
    });

    it('is not fooled by a global RegExp lastIndex', () => {
      const allowList = [/example\.com$/g];
      const text = 'a@example.com b@example.com';
      expect(detectPii(text, { allowList })).toEqual([]);
      expect(detectPii(text, { allowList })).toEqual([]);
    });

    it('does not let a weaker overlapping candidate replace an allowed value', () => {
      // An IPv4 address is also found inside the mapped IPv6 one; allowing the IPv6 hides both.
      const text = 'peer ::ffff:192.0.2.128 connected';
      expect(detectPii(text, { minScore: 0 }).map((e) => text.slice(e.start, e.end))).toEqual([
        '::ffff:192.0.2.128',
      ]);
      expect(detectPii(text, { allowList: ['::ffff:192.0.2.128'], minScore: 0 })).toEqual([]);
    });
  });
});

describe('resolveOverlaps', () => {
  const e = (start: number, end: number, score: number, type: PiiEntity['type'] = 'PHONE'): PiiEntity => ({
    type,
    start,
    end,
    score,
  });

  it('keeps the higher score, then the longer span, then the earlier one', () => {
    expect(resolveOverlaps([e(0, 10, 0.6), e(5, 8, 0.9, 'US_SSN')])).toEqual([e(5, 8, 0.9, 'US_SSN')]);
    expect(resolveOverlaps([e(0, 4, 0.8), e(2, 12, 0.8, 'CREDIT_CARD')])).toEqual([
      e(2, 12, 0.8, 'CREDIT_CARD'),
    ]);
    expect(resolveOverlaps([e(4, 8, 0.8), e(0, 4, 0.8), e(2, 6, 0.8)])).toEqual([e(0, 4, 0.8), e(4, 8, 0.8)]);
  });

  it('keeps adjacent spans and sorts by start', () => {
    expect(resolveOverlaps([e(10, 20, 0.7), e(0, 10, 0.9), e(20, 25, 0.5)])).toEqual([
      e(0, 10, 0.9),
      e(10, 20, 0.7),
      e(20, 25, 0.5),
    ]);
  });

  it('scales to many candidates', () => {
    const many = Array.from({ length: 20_000 }, (_, i) => e(i * 3, i * 3 + 4, (i % 7) / 10));
    const kept = resolveOverlaps(many);
    for (let i = 1; i < kept.length; i++) expect(kept[i].start).toBeGreaterThanOrEqual(kept[i - 1].end);
    expect(kept.length).toBeGreaterThan(5_000);
  });
});
