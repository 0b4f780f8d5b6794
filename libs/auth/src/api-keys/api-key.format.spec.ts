import { createHash } from 'node:crypto';
import { displayPrefix, generateApiKey, hashApiKey, isWellFormedApiKey } from './api-key.format';

describe('API key format', () => {
  it('is atp_ + 43 base62 characters (256 random bits)', () => {
    const key = generateApiKey();
    expect(key).toMatch(/^atp_[0-9A-Za-z]{43}$/);
    expect(isWellFormedApiKey(key)).toBe(true);
  });

  it('encodes the random bytes: all-zero and all-one inputs stay 43 characters, different bytes differ', () => {
    expect(generateApiKey(() => Buffer.alloc(32, 0))).toBe(`atp_${'0'.repeat(43)}`);
    const max = generateApiKey(() => Buffer.alloc(32, 0xff));
    expect(max).toMatch(/^atp_[0-9A-Za-z]{43}$/);
    expect(max).not.toBe(generateApiKey(() => Buffer.alloc(32, 0xfe)));
  });

  it('does not repeat', () => {
    const keys = new Set(Array.from({ length: 2000 }, () => generateApiKey()));
    expect(keys.size).toBe(2000);
  });

  it('asks for 32 random bytes', () => {
    const sizes: number[] = [];
    generateApiKey((n) => (sizes.push(n), Buffer.alloc(n, 7)));
    expect(sizes).toEqual([32]);
  });

  it('is stored as the SHA-256 hex of the whole key', () => {
    const key = generateApiKey();
    expect(hashApiKey(key)).toBe(createHash('sha256').update(key).digest('hex'));
    expect(hashApiKey(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKey(key)).not.toContain(key.slice(4));
  });

  it('shows a 12-character prefix that cannot stand in for the key', () => {
    const key = generateApiKey();
    expect(displayPrefix(key)).toBe(key.slice(0, 12));
    expect(isWellFormedApiKey(displayPrefix(key))).toBe(false);
  });

  it.each([
    'atp_',
    'atp_short',
    `atp_${'a'.repeat(44)}`,
    `atp_${'-'.repeat(43)}`,
    `ATP_${'a'.repeat(43)}`,
    `sk_${'a'.repeat(43)}`,
  ])('rejects %s before any lookup', (v) => expect(isWellFormedApiKey(v)).toBe(false));
});
