import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit, Optional } from '@nestjs/common';
import type { Limits, Caller } from '@app/auth';
import { REDIS } from '@app/cache';
import { AtpError, BatchQueue, unavailableDependency } from '@app/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { BufferPressure, dependencyOutage } from '@app/observability';
import type { CatalogModel } from '../routing/catalog';
import { budgetMonth, monthStart, nanoToUsd, nextMonthStart, usdToNano, worstCaseNano } from './budget-math';
import { limitsMetrics } from './limits.metrics';
import {
  type AdmitInput,
  LIMITS_STORE,
  type LimitsStore,
  type RateScopeLimits,
  type ScopeName,
  type SettleInput,
} from './limits.types';
import { rateLimitHeaders, retryAfterSeconds } from './rate-headers';
import { SPEND_SOURCE, type SpendSource } from './spend-source';

/** A slot or reservation a crashed replica left behind frees itself after this. */
const LEASE_MS = 15 * 60_000;
const RETRY_INTERVAL_MS = 1_000;
/** Settlements waiting for Redis at which new requests get 503 (BufferPressure). */
const MAX_RETRY_QUEUE = 10_000;
/** How long shutdown keeps retrying the settlements that wait (Redis closes after it). */
const RETRY_SHUTDOWN_MS = 1_000;

export interface AdmissionRequest {
  caller: Caller;
  tenantLimits: Limits;
  requestId: string;
  candidates: readonly CatalogModel[];
  /** Estimated prompt tokens: charged to tokens-per-minute, corrected to the real count at settle. */
  promptTokens: number;
  /**
   * A true upper bound on the prompt tokens the vendor can bill (prompt-bound.ts), reserved by
   * budgets so they are never overspent; the estimate when absent.
   */
  promptTokenBound?: number;
  /** The request's max_tokens / max_completion_tokens. */
  maxTokens: number | null | undefined;
  /** Choices requested (n); the worst case scales with it. */
  choices?: number;
}

/** What an admitted request carries until it is settled. */
export class AdmissionTicket {
  settled = false;
  constructor(
    /** Null when nothing was charged (no limit applies, or the store was down under fail-open). */
    readonly charged: SettleInput | null,
    readonly estimatedTokens: number,
    readonly headers: Record<string, string>,
  ) {}
}

const rate = (l: Limits | null | undefined): RateScopeLimits => ({
  rpm: l?.rpm,
  tpm: l?.tpm,
  concurrency: l?.concurrency,
});
const hasRate = (l: RateScopeLimits) => l.rpm !== undefined || l.tpm !== undefined;

/**
 * Rate limits, concurrency and budgets: one atomic store call before the provider is called
 * (`admit`), one after (`settle`, off the critical path). Redis down: limits follow
 * ATP_LIMITS_ON_REDIS_DOWN (open: serve unmetered, counted on the Redis outage reporter), budgets
 * always fail closed with 503 budget_unavailable. A store call waits ATP_REDIS_TIMEOUT_MS at
 * most, and not at all once Redis is known to be down (the KvStore's health).
 */
@Injectable()
export class AdmissionService implements OnModuleInit, OnModuleDestroy {
  private readonly failOpen: boolean;
  private readonly perTenantSpend: boolean;
  /** Settlements the store did not take (Redis down), retried every second. */
  private readonly retries: BatchQueue<SettleInput>;
  private readonly m = limitsMetrics();

  constructor(
    @Inject(LIMITS_STORE) private readonly store: LimitsStore,
    @Inject(APP_CONFIG) config: AppConfig<'router'>,
    @Inject(SPEND_SOURCE) private readonly spend: SpendSource,
    @Optional() pressure?: BufferPressure,
  ) {
    this.failOpen = config.env.ATP_LIMITS_ON_REDIS_DOWN !== 'closed';
    this.perTenantSpend = config.env.ATP_BUDGET_METRICS_PER_TENANT;
    this.retries = new BatchQueue({
      name: 'settle_retries',
      write: (batch, written) => this.settleAgain(batch, written),
      maxBatch: 500,
      flushEveryMs: RETRY_INTERVAL_MS,
      // Past the bound new requests get 503; only calls already in flight add more. The hard cap
      // is a last resort: a dropped settlement leaves a reservation its lease (15 min) frees,
      // and one older than the lease has nothing left to release.
      limit: MAX_RETRY_QUEUE,
      pressure,
      dropOldestPast: MAX_RETRY_QUEUE * 2,
      maxAgeMs: LEASE_MS,
      closeTimeoutMs: RETRY_SHUTDOWN_MS,
    });
  }

  onModuleInit(): void {
    this.retries.start();
  }

  /** Before CacheModule closes Redis (onApplicationShutdown): one last try for what waits. */
  async onModuleDestroy(): Promise<void> {
    await this.retries.close();
  }

  /** @throws AtpError 429 rate_limit_exceeded / tokens_limit_exceeded / concurrency_limit_exceeded / budget_exceeded, 503 when the store is down and the policy says so */
  async admit(r: AdmissionRequest): Promise<AdmissionTicket> {
    const p = r.caller;
    const keyId = p.type === 'api_key' ? p.credentialId : null;
    const keyLimits = keyId ? p.keyLimits : null;
    const tenant = rate(r.tenantLimits);
    const key = rate(keyLimits);
    const tenantBudget = r.tenantLimits.monthlyBudgetUsd;
    const keyBudget = keyLimits?.monthlyBudgetUsd;
    const hasBudget = tenantBudget !== undefined || keyBudget !== undefined;
    const estimatedTokens = r.promptTokens + (r.maxTokens ?? 0);
    const anyLimit =
      hasRate(tenant) || hasRate(key) || tenant.concurrency !== undefined || key.concurrency !== undefined;
    if (!anyLimit && !hasBudget) return new AdmissionTicket(null, estimatedTokens, {});

    const now = Date.now();
    const input: AdmitInput = {
      tenantId: p.tenantId,
      keyId,
      requestId: r.requestId,
      tenant,
      key,
      tokens: estimatedTokens,
      reserveNano: hasBudget
        ? worstCaseNano(r.candidates, r.promptTokenBound ?? r.promptTokens, r.maxTokens, r.choices)
        : 0,
      tenantBudgetNano: tenantBudget === undefined ? undefined : usdToNano(tenantBudget),
      keyBudgetNano: keyBudget === undefined ? undefined : usdToNano(keyBudget),
      month: budgetMonth(now),
      leaseMs: LEASE_MS,
    };

    // What settling this call releases and charges; `bucketSec` and the rate flags only once the
    // store has admitted it (a failed admission took no rate slot to correct).
    const toSettle = (admitted: { bucketSec: number } | null): SettleInput => ({
      tenantId: p.tenantId,
      keyId,
      requestId: r.requestId,
      month: input.month,
      bucketSec: admitted?.bucketSec ?? 0,
      tokenDelta: 0,
      tenantRate: admitted !== null && hasRate(tenant),
      keyRate: admitted !== null && hasRate(key),
      tenantConcurrency: tenant.concurrency !== undefined,
      keyConcurrency: key.concurrency !== undefined,
      tenantBudget: tenantBudget !== undefined,
      keyBudget: keyBudget !== undefined,
      reserveNano: input.reserveNano,
      costNano: 0,
      firstAttempt: admitted !== null,
    });

    let result;
    let sent = false;
    try {
      result = await this.admitWithBudgets(input, now, () => (sent = true));
    } catch (err) {
      // A call that was sent may still have taken a slot and a reservation: release them (a
      // release of what was never taken changes nothing). The spend is only added back for a
      // reservation that existed, so nothing is counted twice.
      const maybe = sent ? toSettle(null) : null;
      return this.storeDown(err, hasBudget, estimatedTokens, maybe);
    }
    const headers = rateLimitHeaders(result.headers);
    if (result.status === 'rejected')
      throw this.rejection(result.kind, result.scope, result.retryAfterMs, headers, now);
    const charged = toSettle(result);
    return new AdmissionTicket(charged, estimatedTokens, headers);
  }

  private async admitWithBudgets(input: AdmitInput, now: number, onSent: () => void) {
    if (!this.store.available()) throw new Error('limits store unavailable');
    onSent();
    for (let attempt = 0; ; attempt++) {
      const result = await this.store.admit(input);
      if (result.status !== 'needs_budget') return result;
      if (attempt >= 3) throw new Error('budget total could not be seeded');
      await this.seedBudget(input, result.scope, now);
    }
  }

  /** Rebuilds a month's spend from the spend source (first use, new month, or Redis lost it). */
  private async seedBudget(input: AdmitInput, scope: ScopeName, now: number): Promise<void> {
    const keyId = scope === 'key' ? input.keyId : null;
    const spentUsd = await this.spend.spentUsdSince(input.tenantId, keyId, monthStart(now));
    const total = await this.store.initBudget({
      tenantId: input.tenantId,
      scope,
      keyId: input.keyId,
      month: input.month,
      spentNano: usdToNano(spentUsd),
    });
    if (scope === 'tenant') this.reportSpend(input.tenantId, total);
  }

  private rejection(
    kind: string,
    scope: ScopeName,
    retryMs: number,
    headers: Record<string, string>,
    now: number,
  ): AtpError {
    const who = scope === 'tenant' ? 'the tenant' : 'this API key';
    if (kind === 'budget') {
      this.m.budgetRejections.inc();
      const wait = retryMs === -2 ? nextMonthStart(now).getTime() - now : retryMs;
      return new AtpError(
        429,
        'budget_exceeded',
        `The monthly budget of ${who} does not cover this request's worst-case cost`,
        {
          headers: { ...headers, 'retry-after': retryAfterSeconds(wait) },
        },
      );
    }
    this.m.rateRejections.inc({ kind });
    const what =
      kind === 'requests'
        ? 'requests per minute'
        : kind === 'tokens'
          ? 'tokens per minute'
          : 'concurrent requests';
    const code =
      kind === 'requests'
        ? 'rate_limit_exceeded'
        : kind === 'tokens'
          ? 'tokens_limit_exceeded'
          : 'concurrency_limit_exceeded';
    const message =
      retryMs === -1
        ? `This request is larger than the ${what} limit of ${who}`
        : `Rate limit reached for ${who}: ${what}`;
    return new AtpError(429, code, message, {
      headers: { ...headers, 'retry-after': retryAfterSeconds(retryMs < 0 ? 60_000 : retryMs) },
    });
  }

  private storeDown(
    err: unknown,
    hasBudget: boolean,
    estimatedTokens: number,
    maybeCharged: SettleInput | null,
  ): AdmissionTicket {
    // The outage's first error is logged by the reporter; each answer is counted (a 503 by the
    // global filter, a request served unmetered here).
    // A budget seeded from the usage rows can also fail on PostgreSQL: blame the right one.
    const dependency = unavailableDependency(err) ?? REDIS;
    dependencyOutage(dependency).failed(err, !hasBudget && this.failOpen);
    const release = () => maybeCharged && this.queueRetry(maybeCharged, false);
    if (hasBudget) {
      release();
      this.m.budgetRejections.inc();
      throw new AtpError(
        503,
        'budget_unavailable',
        'The budget store is unreachable; requests with a budget are refused until it returns',
        { headers: { 'retry-after': '5' }, dependency },
      );
    }
    if (!this.failOpen) {
      release();
      this.m.unenforced.inc({ outcome: 'rejected' });
      this.m.rateRejections.inc({ kind: 'store_unavailable' });
      throw new AtpError(
        503,
        'rate_limit_unavailable',
        'The rate-limit store is unreachable; requests are refused until it returns',
        { headers: { 'retry-after': '5' }, dependency },
      );
    }
    this.m.unenforced.inc({ outcome: 'allowed' });
    // served unmetered; a slot the timed-out call may have taken is freed when the call ends
    return new AdmissionTicket(maybeCharged, estimatedTokens, {});
  }

  /**
   * Corrects tokens-per-minute to the real usage, frees the concurrency slot, and settles the
   * budget at the real cost. Never throws and never delays the response; a failure is retried.
   */
  settle(ticket: AdmissionTicket, realTokens: number, costUsd: number): void {
    if (ticket.settled || !ticket.charged) return;
    ticket.settled = true;
    const input = {
      ...ticket.charged,
      tokenDelta: realTokens - ticket.estimatedTokens,
      costNano: usdToNano(costUsd),
    };
    if (!this.store.available()) return this.queueRetry(input);
    this.store.settle(input).then(
      (r) => r.tenantSpentNano !== null && this.reportSpend(input.tenantId, r.tenantSpentNano),
      () => this.queueRetry(input),
    );
  }

  private queueRetry(input: SettleInput, failed = true): void {
    if (failed) this.m.settleFailures.inc();
    this.retries.add({ ...input, firstAttempt: false });
  }

  /** One settle call each; the ones the store took are reported, the others stay queued. */
  private async settleAgain(batch: SettleInput[], written: (part: SettleInput[]) => void): Promise<void> {
    if (!this.store.available()) throw new Error('the limits store is unavailable');
    let failed: unknown = null;
    for (const input of batch) {
      try {
        await this.store.settle(input);
        written([input]);
      } catch (err) {
        failed = err;
      }
    }
    if (failed) throw failed;
  }

  private reportSpend(tenantId: string, spentNano: number): void {
    if (this.perTenantSpend) this.m.budgetSpend.set({ tenant: tenantId }, nanoToUsd(spentNano));
  }

  /** The month's spend and open reservations of a tenant (or key) budget; null when not tracked yet. */
  async budgetStatus(
    tenantId: string,
    keyId: string | null = null,
  ): Promise<{ spentUsd: number; reservedUsd: number } | null> {
    const s = await this.store.budgetStatus({
      tenantId,
      scope: keyId ? 'key' : 'tenant',
      keyId,
      month: budgetMonth(Date.now()),
    });
    return s && { spentUsd: nanoToUsd(s.spentNano), reservedUsd: nanoToUsd(s.reservedNano) };
  }
}
