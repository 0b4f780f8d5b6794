import type { Limits, TenantService } from '@app/auth';
import { TenantLimitsCache } from './tenant-limits.cache';

describe('TenantLimitsCache', () => {
  const fastStop = Object.assign(new Error('terminating connection due to administrator command'), {
    code: '57P01',
  });

  function cache(read: () => Promise<Limits>) {
    return new TenantLimitsCache({ getLimits: read } as unknown as TenantService);
  }

  it('reads at most every 2 s; with the database down the last limits keep applying for 10 min', async () => {
    let reads = 0;
    let down = false;
    const c = cache(async () => {
      reads++;
      if (down) throw fastStop;
      return { rpm: 5 };
    });
    expect(await c.get('t', 0)).toEqual({ rpm: 5 });
    expect(await c.get('t', 1_999)).toEqual({ rpm: 5 });
    expect(reads).toBe(1);
    down = true;
    expect(await c.get('t', 2_000)).toEqual({ rpm: 5 });
    expect(await c.get('t', 599_999)).toEqual({ rpm: 5 });
    expect(reads).toBe(3);
    await expect(c.get('t', 600_000)).rejects.toBe(fastStop);
  });

  it('a tenant never read, or an error that is not an outage, is not answered from the cache', async () => {
    const bug = new TypeError('boom');
    let err: Error = fastStop;
    let ok = true;
    const c = cache(async () => {
      if (ok) return {};
      throw err;
    });
    ok = false;
    await expect(c.get('never-read', 0)).rejects.toBe(fastStop);
    ok = true;
    await c.get('t', 0);
    ok = false;
    err = bug;
    await expect(c.get('t', 5_000)).rejects.toBe(bug);
  });
});
