import { TenantDirectory } from './tenant-directory';

describe('TenantDirectory', () => {
  it('caches answers: known tenants for a minute, unknown ones for 5 s', async () => {
    let now = 0;
    const asked: string[] = [];
    const known = new Set(['a']);
    const dir = new TenantDirectory(
      { tenantExists: async (id) => (asked.push(id), known.has(id)) },
      () => now,
    );
    expect(await dir.exists('a')).toBe(true);
    expect(await dir.exists('b')).toBe(false);
    now = 4_999;
    await dir.exists('a');
    await dir.exists('b');
    expect(asked).toEqual(['a', 'b']);
    now = 5_000;
    known.add('b');
    expect(await dir.exists('b')).toBe(true);
    now = 59_999;
    await dir.exists('a');
    expect(asked).toEqual(['a', 'b', 'b']);
    now = 60_000;
    await dir.exists('a');
    expect(asked).toEqual(['a', 'b', 'b', 'a']);
  });
});
