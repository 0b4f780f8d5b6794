import { randomUUID } from 'node:crypto';
import type { AdmitInput, AdmitResult, LimitsStore, SettleInput } from './limits.types';

/**
 * One behaviour for both stores: the in-process one (unit spec, fake clock) and the Redis Lua
 * scripts (integration spec, real Redis). `advance` is given only when the clock can be moved.
 */
export function describeGovernanceStore(
  name: string,
  make: () => { store: LimitsStore; advance?: (ms: number) => void; cleanup?: () => Promise<void> },
  options: { movableClock: boolean },
): void {
  describe(`governance store contract: ${name}`, () => {
    let store: LimitsStore;
    let advance: ((ms: number) => void) | undefined;
    let cleanup: (() => Promise<void>) | undefined;
    let tenantId: string;

    beforeEach(() => {
      ({ store, advance, cleanup } = make());
      tenantId = randomUUID();
    });
    afterEach(async () => {
      await cleanup?.();
      await store.close();
    });

    const input = (over: Partial<AdmitInput> = {}): AdmitInput => ({
      tenantId,
      keyId: 'key1',
      requestId: randomUUID(),
      tenant: {},
      key: {},
      tokens: 10,
      reserveNano: 0,
      month: '2026-11',
      leaseMs: 60_000,
      ...over,
    });
    const settleOf = (i: AdmitInput, r: AdmitResult, over: Partial<SettleInput> = {}): SettleInput => ({
      tenantId: i.tenantId,
      keyId: i.keyId,
      requestId: i.requestId,
      month: i.month,
      bucketSec: r.status === 'admitted' ? r.bucketSec : 0,
      tokenDelta: 0,
      tenantRate: i.tenant.rpm !== undefined || i.tenant.tpm !== undefined,
      keyRate: i.key.rpm !== undefined || i.key.tpm !== undefined,
      tenantConcurrency: i.tenant.concurrency !== undefined,
      keyConcurrency: i.key.concurrency !== undefined,
      tenantBudget: i.tenantBudgetNano !== undefined,
      keyBudget: i.keyBudgetNano !== undefined,
      reserveNano: i.reserveNano,
      costNano: 0,
      firstAttempt: true,
      ...over,
    });

    it('admits exactly rpm requests in the window, then rejects with a retry time and headers', async () => {
      const results = [];
      for (let n = 0; n < 7; n++) results.push(await store.admit(input({ key: { rpm: 5 } })));
      expect(results.filter((r) => r.status === 'admitted')).toHaveLength(5);
      const last = results[6];
      expect(last.status).toBe('rejected');
      if (last.status !== 'rejected') return;
      expect(last.kind).toBe('requests');
      expect(last.scope).toBe('key');
      expect(last.retryAfterMs).toBeGreaterThan(0);
      expect(last.retryAfterMs).toBeLessThanOrEqual(60_000);
      expect(last.headers.requests).toEqual(expect.objectContaining({ limit: 5, remaining: 0 }));
      const first = results[0];
      expect(first.status === 'admitted' && first.headers.requests).toEqual(
        expect.objectContaining({ limit: 5, remaining: 4 }),
      );
      if (advance) {
        advance(60_001);
        expect((await store.admit(input({ key: { rpm: 5 } }))).status).toBe('admitted');
      }
    });

    it('is all or nothing across scopes: a key rejection charges the tenant nothing', async () => {
      for (let n = 0; n < 3; n++) await store.admit(input({ tenant: { rpm: 10 }, key: { rpm: 3 } }));
      const rejected = await store.admit(input({ tenant: { rpm: 10 }, key: { rpm: 3 } }));
      expect(rejected.status).toBe('rejected');
      const other = await store.admit(input({ keyId: 'key2', tenant: { rpm: 10 }, key: {} }));
      expect(other.status === 'admitted' && other.headers.requests?.remaining).toBe(6);
    });

    it('charges the token estimate up front and corrects it with the real usage', async () => {
      const a = input({ tenant: { tpm: 100 }, tokens: 80 });
      const ra = await store.admit(a);
      expect(ra.status).toBe('admitted');
      const b = await store.admit(input({ tenant: { tpm: 100 }, tokens: 30 }));
      expect(b.status === 'rejected' && b.kind).toBe('tokens');
      await store.settle(settleOf(a, ra, { tokenDelta: -60 })); // real usage 20
      const c = await store.admit(input({ tenant: { tpm: 100 }, tokens: 30 }));
      expect(c.status).toBe('admitted');
      expect(c.status === 'admitted' && c.headers.tokens?.remaining).toBe(50);
      const huge = await store.admit(input({ tenant: { tpm: 100 }, tokens: 101 }));
      expect(huge.status === 'rejected' && huge.retryAfterMs).toBe(-1);
    });

    it('leases concurrency slots and frees them on settle', async () => {
      const a = input({ key: { concurrency: 2 } });
      const ra = await store.admit(a);
      expect((await store.admit(input({ key: { concurrency: 2 } }))).status).toBe('admitted');
      const third = await store.admit(input({ key: { concurrency: 2 } }));
      expect(third.status === 'rejected' && third.kind).toBe('concurrency');
      await store.settle(settleOf(a, ra));
      expect((await store.admit(input({ key: { concurrency: 2 } }))).status).toBe('admitted');
    });

    it('needs a seeded budget, reserves the worst case, settles at the real cost', async () => {
      const budget = { tenantBudgetNano: 100, reserveNano: 40 };
      expect(await store.admit(input(budget))).toEqual({ status: 'needs_budget', scope: 'tenant' });
      expect(
        await store.initBudget({ tenantId, scope: 'tenant', keyId: null, month: '2026-11', spentNano: 10 }),
      ).toBe(10);
      expect(
        await store.initBudget({ tenantId, scope: 'tenant', keyId: null, month: '2026-11', spentNano: 99 }),
      ).toBe(10);
      const a = input(budget);
      const ra = await store.admit(a);
      const rb = await store.admit(input(budget));
      expect([ra.status, rb.status]).toEqual(['admitted', 'admitted']);
      const rc = await store.admit(input(budget));
      expect(rc.status === 'rejected' && rc.kind).toBe('budget');
      expect(rc.status === 'rejected' && rc.retryAfterMs).toBe(1000); // in-flight reservations are the cause
      expect(await store.budgetStatus({ tenantId, scope: 'tenant', keyId: null, month: '2026-11' })).toEqual({
        spentNano: 10,
        reservedNano: 80,
      });
      const settled = await store.settle(settleOf(a, ra, { costNano: 15 }));
      expect(settled.tenantSpentNano).toBe(25);
      // a retry of the same settlement adds nothing
      await store.settle(settleOf(a, ra, { costNano: 15, firstAttempt: false }));
      expect(await store.budgetStatus({ tenantId, scope: 'tenant', keyId: null, month: '2026-11' })).toEqual({
        spentNano: 25,
        reservedNano: 40,
      });
      expect((await store.admit(input({ ...budget, reserveNano: 36 }))).status).toBe('rejected'); // 25 + 40 + 36 > 100
      expect((await store.admit(input({ ...budget, reserveNano: 35 }))).status).toBe('admitted'); // exactly 100 fits
    });

    it('rejects for the rest of the period when the spend alone leaves no room', async () => {
      await store.initBudget({ tenantId, scope: 'key', keyId: 'key1', month: '2026-11', spentNano: 90 });
      const r = await store.admit(input({ keyBudgetNano: 100, reserveNano: 20 }));
      expect(r).toEqual(
        expect.objectContaining({ status: 'rejected', kind: 'budget', scope: 'key', retryAfterMs: -2 }),
      );
    });

    if (options.movableClock) {
      it('reaps reservations and slots a crashed replica left behind once their lease ends', async () => {
        await store.initBudget({ tenantId, scope: 'tenant', keyId: null, month: '2026-11', spentNano: 0 });
        const lost = input({
          tenantBudgetNano: 100,
          reserveNano: 100,
          tenant: { concurrency: 1 },
          leaseMs: 5_000,
        });
        expect((await store.admit(lost)).status).toBe('admitted');
        expect(
          (await store.admit(input({ tenantBudgetNano: 100, reserveNano: 100, tenant: { concurrency: 1 } })))
            .status,
        ).toBe('rejected');
        advance!(5_001);
        expect(
          (await store.admit(input({ tenantBudgetNano: 100, reserveNano: 100, tenant: { concurrency: 1 } })))
            .status,
        ).toBe('admitted');
      });
    }
  });
}
