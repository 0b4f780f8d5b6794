import fc from 'fast-check';
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

  describe('UUIDs', () => {
    // Each of these spells a valid identifier by chance: an IBAN to mod-97, or a Luhn-valid card
    // number inside the UUID or across a "v-<n>-" prefix (found in 300,000 random memory values).
    it.each([
      'ba924650-5634-4d6a-afaf-598a0c24949f',
      '4ffaab72-ad54-4d67-8714-0c703740c2bf',
      '259b7db0-ad03-4d1f-aa26-faad2a3c3071',
      '0796f3a6-2271-4430-be83-2d8aec09bc7a',
      '66b3c71a-5731-4573-9823-8e4a257741de',
      '9431b45a-6176-4914-8930-d0c97abc34fc',
      '2229fb30-c7f1-4bfc-86ad-619467747512',
    ])('a UUID is not PII, even where its groups pass a checksum: %s', (uuid) => {
      expect(detectPii(`id ${uuid} and v-1-${uuid}`)).toEqual([]);
    });

    it.each([
      'v-2558-49318675-8362-447e-bf3d-92aed6f62799',
      'v-2397-54874365-6790-431b-a785-64982a5e9171',
      'v-2570-55932324-5481-449b-833b-24c37d5fd0cd',
    ])('a match that runs from a prefix into a UUID is not PII: %s', (value) => {
      expect(detectPii(value)).toEqual([]);
    });

    it('no UUID of 30,000 (a fixed pseudo-random sequence) is taken for PII; real PII beside them still is', () => {
      let x = 0x2545f491;
      const hex = (n: number) => {
        let out = '';
        for (let i = 0; i < n; i++) {
          x = (Math.imul(x, 1103515245) + 12345) >>> 0;
          out += ((x >>> 16) & 15).toString(16);
        }
        return out;
      };
      const uuids = Array.from(
        { length: 30_000 },
        (_, n) => `v-${n % 3000}-${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`,
      );
      expect(detectPii(uuids.join(' '))).toEqual([]);
      const text = `${uuids.slice(0, 3).join(' ')} DE89 3704 0044 0532 0130 00, card 4111-1111-1111-1111`;
      expect(detectPii(text, { includeText: true }).map((e) => [e.type, e.text])).toEqual([
        ['IBAN', 'DE89 3704 0044 0532 0130 00'],
        ['CREDIT_CARD', '4111-1111-1111-1111'],
      ]);
    });
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

  /** The plain statement of the rule (an array kept sorted by start; O(n²) on many winners). */
  function reference(candidates: readonly PiiEntity[]): PiiEntity[] {
    const ranked = [...candidates].sort(
      (a, b) => b.score - a.score || b.end - b.start - (a.end - a.start) || a.start - b.start,
    );
    const chosen: PiiEntity[] = [];
    for (const c of ranked) {
      let i = 0;
      while (i < chosen.length && chosen[i].start < c.start) i++;
      const before = chosen[i - 1];
      const after = chosen[i];
      if ((before && before.end > c.start) || (after && after.start < c.end)) continue;
      chosen.splice(i, 0, c);
    }
    return chosen;
  }

  it('selects exactly what the plain rule selects (random candidates, ties included)', () => {
    const candidate = fc
      .record({
        start: fc.integer({ min: 0, max: 60 }),
        // Detectors never find an empty span (two empty winners at one start have no order to keep).
        length: fc.integer({ min: 1, max: 12 }),
        score: fc.constantFrom(0.3, 0.5, 0.8, 0.9),
      })
      .map(({ start, length, score }) => e(start, start + length, score));
    fc.assert(
      fc.property(fc.array(candidate, { maxLength: 40 }), (candidates) => {
        const kept = resolveOverlaps(candidates);
        const expected = reference(candidates);
        expect(kept).toEqual(expected);
        // The very objects, not copies.
        kept.forEach((k, i) => expect(k).toBe(expected[i]));
      }),
      { seed: 15, numRuns: 2000 },
    );
  });

  it('scales to many candidates', () => {
    const many = Array.from({ length: 20_000 }, (_, i) => e(i * 3, i * 3 + 4, (i % 7) / 10));
    const kept = resolveOverlaps(many);
    for (let i = 1; i < kept.length; i++) expect(kept[i].start).toBeGreaterThanOrEqual(kept[i - 1].end);
    expect(kept.length).toBeGreaterThan(5_000);
  });
});
