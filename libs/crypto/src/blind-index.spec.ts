import { randomBytes } from 'node:crypto';
import { blindIndex, blindToken, normalizeTokens } from './blind-index';
import { generateDataKey } from './data-key';
import { deriveBlindIndexKey, derivePiiHashKey, piiHash } from './derived-keys';

describe('normalizeTokens', () => {
  it('lower-cases, strips diacritics, splits on non letters/digits, dedupes', () => {
    expect(normalizeTokens('Café au LAIT, café! x 42 über-Straße')).toEqual([
      'cafe',
      'au',
      'lait',
      '42',
      'uber',
      'straße',
    ]);
  });

  it('applies NFKD compatibility folding and honours the limits', () => {
    expect(normalizeTokens('ﬁle Ｆｕｌｌ')).toEqual(['file', 'full']);
    expect(normalizeTokens('a bb ccc', { minLength: 3 })).toEqual(['ccc']);
    expect(normalizeTokens('abcdef', { maxLength: 3 })).toEqual(['abc']);
    expect(normalizeTokens('aa bb cc dd', { maxTokens: 2 })).toEqual(['aa', 'bb']);
    expect(normalizeTokens('  ,,, ')).toEqual([]);
  });
});

describe('blind index', () => {
  const dk = generateDataKey('t-1');
  const key = deriveBlindIndexKey(dk);

  it('is deterministic per tenant key and matches a query with different case/accents', () => {
    const doc = blindIndex(key, 'Meeting at the Café tomorrow');
    const query = blindIndex(key, 'cafe');
    expect(query).toHaveLength(1);
    expect(doc).toContain(query[0]);
    expect(query[0]).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('contains no plaintext and differs between tenants', () => {
    const other = deriveBlindIndexKey(generateDataKey('t-2'));
    expect(blindIndex(key, 'secret').join()).not.toContain('secret');
    expect(blindToken(key, 'secret')).not.toBe(blindToken(other, 'secret'));
  });

  it('derives distinct keys per purpose and per tenant', () => {
    const same = { ...dk, tenantId: 't-other' };
    expect(deriveBlindIndexKey(dk).equals(derivePiiHashKey(dk))).toBe(false);
    expect(deriveBlindIndexKey(dk).equals(deriveBlindIndexKey(same))).toBe(false);
    expect(deriveBlindIndexKey(dk).equals(deriveBlindIndexKey({ ...dk }))).toBe(true);
  });
});

describe('PII hash', () => {
  it('is a stable per-tenant HMAC', () => {
    const k1 = derivePiiHashKey(generateDataKey('t-1'));
    const k2 = derivePiiHashKey(generateDataKey('t-2', 'dk_x'));
    expect(piiHash(k1, 'alice@example.com')).toBe(piiHash(k1, 'alice@example.com'));
    expect(piiHash(k1, 'alice@example.com')).toMatch(/^[0-9a-f]{64}$/);
    expect(piiHash(k1, 'alice@example.com')).not.toBe(piiHash(k2, 'alice@example.com'));
    expect(piiHash(randomBytes(32), 'x')).not.toBe(piiHash(k1, 'x'));
  });
});
