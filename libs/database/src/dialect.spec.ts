import { sqliteDatetime } from './dialect';

describe('sqliteDatetime', () => {
  it("writes TypeORM's SQLite form, in UTC, for one millisecond after another", () => {
    const t = Date.UTC(2026, 10, 26, 13, 5, 7, 89);
    expect(sqliteDatetime(new Date(t))).toBe('2026-11-26 13:05:07.089');
    expect(sqliteDatetime(new Date(t))).toBe('2026-11-26 13:05:07.089');
    expect(sqliteDatetime(new Date(t + 1))).toBe('2026-11-26 13:05:07.090');
    expect(sqliteDatetime(new Date(t))).toBe('2026-11-26 13:05:07.089');
  });

  it('pads years past 9999 as TypeORM does, and refuses an invalid date', () => {
    expect(sqliteDatetime(new Date(Date.UTC(12026, 0, 2, 3, 4, 5, 6)))).toBe('2026-01-02 03:04:05.006');
    expect(() => sqliteDatetime(new Date(NaN))).toThrow(RangeError);
  });
});
