import { randomBytes, randomUUID } from 'node:crypto';
import { RedisKvStore } from '@app/cache';
import { readProcessEnv } from '@app/config';
import { usingRedis } from '@app/testing';
import { describeGovernanceStore } from '../src/limits/limits-store.contract';
import { limitsKeys } from '../src/limits/limits-keys';
import { RedisLimitsStore } from '../src/limits/redis-limits.store';

const newKv = () =>
  new RedisKvStore(readProcessEnv().REDIS_URL!, `atp-t-gov-${randomBytes(4).toString('hex')}:`);

/** Deletes what a test wrote under its own prefix (budget totals would otherwise live 40 days), then disconnects. */
async function dispose(kv: RedisKvStore): Promise<void> {
  const keys = await kv.client.keys(`${kv.prefix}*`);
  if (keys.length) await kv.client.del(...keys);
  await kv.close();
}

/** The Lua scripts keep the same contract as the in-process store (real Redis; the clock cannot be moved). */
if (usingRedis) {
  describeGovernanceStore(
    'redis (Lua)',
    () => {
      const kv = newKv();
      return { store: new RedisLimitsStore(kv), cleanup: () => dispose(kv) };
    },
    { movableClock: false },
  );

  describe('redis sliding window: buckets that left the window', () => {
    const kv = newKv();
    const store = new RedisLimitsStore(kv);
    afterAll(() => dispose(kv));

    const admitKey = (tenantId: string) =>
      store.admit({
        tenantId,
        keyId: 'key1',
        requestId: randomUUID(),
        tenant: {},
        key: { rpm: 8, tpm: 1000 },
        tokens: 10,
        reserveNano: 0,
        month: '2026-11',
        leaseMs: 60_000,
      });

    it('subtracts expired buckets from the running sums and keeps the live ones', async () => {
      const tenantId = randomUUID();
      const now = Number((await kv.client.time())[0]);
      const key = kv.key(limitsKeys(tenantId, 'key1', '2026-11').keyWindow);
      await kv.client.hset(key, {
        P: now - 70,
        [`r${now - 65}`]: 6,
        [`t${now - 65}`]: 600,
        [`r${now - 30}`]: 2,
        [`t${now - 30}`]: 20,
        R: 8,
        T: 620,
      });
      const r = await admitKey(tenantId);
      expect(r.status).toBe('admitted');
      expect(r.status === 'admitted' && r.headers).toEqual({
        requests: expect.objectContaining({ limit: 8, remaining: 5 }),
        tokens: expect.objectContaining({ limit: 1000, remaining: 970 }),
      });
      expect(await kv.client.hexists(key, `r${now - 65}`)).toBe(0);
      expect(Number(await kv.client.hget(key, 'P'))).toBeGreaterThanOrEqual(now - 60);
    });

    it('drops a window whose every bucket is older than a minute', async () => {
      const tenantId = randomUUID();
      const now = Number((await kv.client.time())[0]);
      const key = kv.key(limitsKeys(tenantId, 'key1', '2026-11').keyWindow);
      await kv.client.hset(key, { P: now - 200, [`r${now - 150}`]: 8, R: 8, T: 80 });
      const r = await admitKey(tenantId);
      expect(r.status === 'admitted' && r.headers.requests?.remaining).toBe(7);
    });
  });
} else {
  it.skip('redis governance store contract (set REDIS_URL to run it)', () => undefined);
}
