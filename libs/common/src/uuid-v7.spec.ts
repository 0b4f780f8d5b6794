import { uuidv7 } from './uuid-v7';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv7', () => {
  it('is an RFC 9562 version 7 UUID carrying the millisecond time', () => {
    const at = Date.UTC(2026, 10, 26, 12, 0, 0, 123);
    const id = uuidv7(at + 10_000_000); // later than any id the other tests make
    expect(id).toMatch(V7);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at + 10_000_000);
  });

  it('never goes backwards: same millisecond, many ids, and a clock that steps back', () => {
    const base = Date.now() + 20_000_000;
    const ids: string[] = [];
    for (let i = 0; i < 10_000; i++) ids.push(uuidv7(base)); // overflows the 12-bit counter
    ids.push(uuidv7(base - 5_000)); // the clock stepped back
    ids.push(uuidv7(base + 1));
    for (let i = 1; i < ids.length; i++) {
      expect(ids[i] > ids[i - 1]).toBe(true);
      expect(ids[i]).toMatch(V7);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('differs between calls in its random part', () => {
    const tails = new Set(Array.from({ length: 1000 }, () => uuidv7().slice(19)));
    expect(tails.size).toBe(1000);
  });
});
