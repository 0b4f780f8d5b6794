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

  it('with the database down, a known tenant is still accepted for 10 min; an unknown one is an error', async () => {
    let now = 0;
    let down = false;
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const dir = new TenantDirectory(
      {
        tenantExists: async (id) => {
          if (down) throw refused;
          return id === 'a';
        },
      },
      () => now,
    );
    expect(await dir.exists('a')).toBe(true);
    down = true;
    now = 60_000;
    expect(await dir.exists('a')).toBe(true);
    await expect(dir.exists('b')).rejects.toBe(refused);
    now = 600_000;
    await expect(dir.exists('a')).rejects.toBe(refused);
  });

  it('a query error that is not an outage is not hidden by the cache', async () => {
    let now = 0;
    let broken = false;
    const bug = new TypeError('boom');
    const dir = new TenantDirectory(
      {
        tenantExists: async () => {
          if (broken) throw bug;
          return true;
        },
      },
      () => now,
    );
    expect(await dir.exists('a')).toBe(true);
    broken = true;
    now = 60_000;
    await expect(dir.exists('a')).rejects.toBe(bug);
  });
});
