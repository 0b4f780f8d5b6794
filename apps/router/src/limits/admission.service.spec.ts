import { Logger } from '@nestjs/common';
import type { Caller } from '@app/auth';
import { RedisUnavailableError } from '@app/cache';
import { AtpError } from '@app/common';
import type { AppConfig } from '@app/config';
import type { CatalogModel } from '../routing/catalog';
import { AdmissionService } from './admission.service';
import type { LimitsStore, SettleInput } from './limits.types';
import { MemoryLimitsStore } from './memory-limits.store';
import type { SpendSource } from './spend-source';

const model: CatalogModel = {
  id: 'm',
  provider: 'openai',
  upstream: 'm',
  kind: 'chat',
  inputPer1M: 0,
  outputPer1M: 10_000,
  contextWindow: 1000,
  maxOutputTokens: 2,
  quality: 0.5,
  capabilities: { tools: true, vision: false, json: true },
};
const caller: Caller = {
  tenantId: 't1',
  subject: 'api_key:k1',
  scopes: ['llm'],
  credentialId: 'k1',
  type: 'api_key',
  requestId: 'r1',
  sourceIp: null,
  keyLimits: null,
};

function setup(store: LimitsStore, policy: 'open' | 'closed' = 'open', spentUsd = 0) {
  const config = {
    env: { ATP_LIMITS_ON_REDIS_DOWN: policy, ATP_BUDGET_METRICS_PER_TENANT: false },
  } as unknown as AppConfig<'router'>;
  const spend = { spentUsdSince: jest.fn(async () => spentUsd) } satisfies SpendSource;
  const service = new AdmissionService(store, config, spend);
  return { service, spend };
}
const request = (tenantLimits: object, keyLimits: object | null = null, id = 'r1') => ({
  caller: { ...caller, keyLimits },
  tenantLimits,
  requestId: id,
  candidates: [model],
  promptTokens: 10,
  maxTokens: null,
});

/** A store that is down, or whose settle fails a given number of times. */
function flakyStore(inner: LimitsStore, opts: { down?: boolean; settleFailures?: number }) {
  const settles: SettleInput[] = [];
  let failures = opts.settleFailures ?? 0;
  const store: LimitsStore = {
    kind: 'redis',
    available: () => !opts.down,
    admit: (i) => inner.admit(i),
    settle: async (s) => {
      settles.push(s);
      if (failures-- > 0) throw new Error('connection lost');
      return inner.settle(s);
    },
    initBudget: (p) => inner.initBudget(p),
    budgetStatus: (p) => inner.budgetStatus(p),
    close: () => inner.close(),
  };
  return { store, settles };
}

describe('AdmissionService', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose']));
  let services: AdmissionService[] = [];
  afterEach(() => {
    for (const s of services) void s.onModuleDestroy();
    services = [];
  });
  const make = (...args: Parameters<typeof setup>) => {
    const made = setup(...args);
    services.push(made.service);
    return made;
  };

  it('costs nothing when no limit applies', async () => {
    const store = new MemoryLimitsStore();
    const admit = jest.spyOn(store, 'admit');
    const ticket = await make(store).service.admit(request({}));
    expect(ticket.charged).toBeNull();
    expect(admit).not.toHaveBeenCalled();
  });

  it('seeds a budget from the usage rows, reserves the worst case and settles the real cost', async () => {
    const store = new MemoryLimitsStore();
    const { service, spend } = make(store, 'open', 0.5);
    const ticket = await service.admit(request({ monthlyBudgetUsd: 1 }));
    // The spend source writes the queued usage rows before summing (usage-spend-source.spec.ts).
    expect(spend.spentUsdSince).toHaveBeenCalledWith('t1', null, expect.any(Date));
    expect(await service.budgetStatus('t1')).toEqual({ spentUsd: 0.5, reservedUsd: 0.02 });
    service.settle(ticket, 11, 0.01);
    service.settle(ticket, 11, 0.01); // settling twice is a no-op
    await new Promise((r) => setImmediate(r));
    expect(await service.budgetStatus('t1')).toEqual({ spentUsd: 0.51, reservedUsd: 0 });
  });

  it('refuses with 429 budget_exceeded and Retry-After when the reservation does not fit', async () => {
    const { service } = make(new MemoryLimitsStore(), 'open', 0.99);
    const err = await service.admit(request({ monthlyBudgetUsd: 1 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AtpError);
    expect(err).toMatchObject({ status: 429, code: 'budget_exceeded' });
    expect(Number((err as AtpError).headers['retry-after'])).toBeGreaterThan(0);
  });

  it('store down: rate limits fail open (unmetered) or closed (503); budgets always fail closed', async () => {
    const { store } = flakyStore(new MemoryLimitsStore(), { down: true });
    const open = make(store, 'open').service;
    expect((await open.admit(request({ rpm: 5 }))).charged).toBeNull();
    await expect(open.admit(request({ rpm: 5, monthlyBudgetUsd: 5 }))).rejects.toMatchObject({
      status: 503,
      code: 'budget_unavailable',
    });
    const closed = make(store, 'closed').service;
    await expect(closed.admit(request({}, { rpm: 5 }))).rejects.toMatchObject({
      status: 503,
      code: 'rate_limit_unavailable',
    });
  });

  it('a failed settlement is retried without double-counting the spend', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    try {
      const inner = new MemoryLimitsStore();
      const { store, settles } = flakyStore(inner, { settleFailures: 1 });
      const { service } = make(store);
      service.onModuleInit();
      const ticket = await service.admit(request({ monthlyBudgetUsd: 1, tpm: 1000 }));
      service.settle(ticket, 11, 0.01);
      await new Promise((r) => setImmediate(r));
      expect(await service.budgetStatus('t1')).toEqual({ spentUsd: 0, reservedUsd: 0.02 });
      // The retry timer runs every second; two ticks: the second finds nothing left to retry.
      await jest.advanceTimersByTimeAsync(2_000);
      expect(settles.map((s) => s.firstAttempt)).toEqual([true, false]);
      expect(await service.budgetStatus('t1')).toEqual({ spentUsd: 0.01, reservedUsd: 0 });
    } finally {
      jest.useRealTimers();
    }
  });

  it('a timed-out admission is served unmetered (fail open), and the slot it may have taken is freed at the end', async () => {
    jest.useFakeTimers();
    try {
      const inner = new MemoryLimitsStore();
      const timedOut: LimitsStore = {
        ...flakyStore(inner, {}).store,
        // the script runs (takes the slot) but the reply does not come back within the Redis
        // command timeout (RedisKvStore.call rejects it)
        admit: async (i) => {
          await inner.admit(i);
          throw new RedisUnavailableError('Redis did not answer within 50 ms');
        },
      };
      const { service } = make(timedOut);
      const ticket = await service.admit(request({}, { concurrency: 1 }));
      expect(ticket.headers).toEqual({});
      // Another request for the key's one slot, straight to the store.
      const another = (requestId: string) =>
        inner.admit({
          tenantId: 't1',
          keyId: 'k1',
          requestId,
          tenant: {},
          key: { concurrency: 1 },
          tokens: 1,
          reserveNano: 0,
          month: ticket.charged!.month,
          leaseMs: 60_000,
        });
      const blocked = await another('other');
      expect(blocked.status).toBe('rejected');
      service.settle(ticket, 10, 0);
      await jest.advanceTimersByTimeAsync(10);
      const freed = await another('other2');
      expect(freed.status).toBe('admitted');
    } finally {
      jest.useRealTimers();
    }
  });
});
