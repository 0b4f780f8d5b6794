import type { RedisScript, RedisScripts } from '@app/cache';
import { budgetKey, BUDGET_TTL_MS, limitsKeys, scriptKeys } from './limits-keys';
import type {
  AdmitInput,
  AdmitResult,
  BudgetRef,
  BudgetSeed,
  BudgetStatus,
  LimitsStore,
  RateHeaders,
  RejectKind,
  ScopeName,
  SettleInput,
  SettleResult,
} from './limits.types';
import { ADMIT_LUA } from './lua/admit.lua';
import { BUDGET_STATUS_LUA, INIT_BUDGET_LUA, SETTLE_LUA } from './lua/settle.lua';

const ADMIT: RedisScript = { name: 'atpGovAdmit', keys: 8, lua: ADMIT_LUA };
const SETTLE: RedisScript = { name: 'atpGovSettle', keys: 8, lua: SETTLE_LUA };
const INIT_BUDGET: RedisScript = { name: 'atpGovInitBudget', keys: 1, lua: INIT_BUDGET_LUA };
const BUDGET_STATUS: RedisScript = { name: 'atpGovBudgetStatus', keys: 1, lua: BUDGET_STATUS_LUA };

const KINDS: RejectKind[] = ['requests', 'tokens', 'concurrency', 'budget'];
const SCOPES: ScopeName[] = ['tenant', 'key'];
const lim = (v: number | undefined): number => (v === undefined ? -1 : Math.floor(v));
const int = (v: number): string => String(Math.round(v));
const flag = (b: boolean): string => (b ? '1' : '0');

/** The admission script's reply (see admit.lua.ts): status 1 admitted, 0 rejected, 2 needs a budget. */
function admitResult(reply: unknown[]): AdmitResult {
  const [
    status,
    kind,
    scope,
    retryAfterMs,
    reqLimit,
    reqLeft,
    reqReset,
    tokLimit,
    tokLeft,
    tokReset,
    bucketSec,
  ] = reply.map(Number);
  if (status === 2) return { status: 'needs_budget', scope: SCOPES[scope - 1] };
  const headers: RateHeaders = {};
  if (reqLimit >= 0) headers.requests = { limit: reqLimit, remaining: reqLeft, resetMs: reqReset };
  if (tokLimit >= 0) headers.tokens = { limit: tokLimit, remaining: tokLeft, resetMs: tokReset };
  if (status === 1) return { status: 'admitted', bucketSec, headers };
  return { status: 'rejected', kind: KINDS[kind - 1], scope: SCOPES[scope - 1], retryAfterMs, headers };
}

/**
 * The Redis store: each call is one script ({@link RedisScripts.run}: EVALSHA, bounded by
 * ATP_REDIS_TIMEOUT_MS, refused at once while Redis is known to be down).
 */
export class RedisLimitsStore implements LimitsStore {
  readonly kind = 'redis' as const;

  constructor(private readonly redis: RedisScripts) {}

  available(): boolean {
    return this.redis.available();
  }

  async admit(i: AdmitInput): Promise<AdmitResult> {
    const r = (await this.redis.run(ADMIT, scriptKeys(limitsKeys(i.tenantId, i.keyId, i.month)), [
      i.requestId,
      int(i.leaseMs),
      int(i.tokens),
      int(i.reserveNano),
      lim(i.tenant.rpm),
      lim(i.tenant.tpm),
      lim(i.tenant.concurrency),
      lim(i.key.rpm),
      lim(i.key.tpm),
      lim(i.key.concurrency),
      i.tenantBudgetNano === undefined ? -1 : int(i.tenantBudgetNano),
      i.keyBudgetNano === undefined ? -1 : int(i.keyBudgetNano),
    ])) as unknown[];
    return admitResult(r);
  }

  async settle(s: SettleInput): Promise<SettleResult> {
    const r = (await this.redis.run(SETTLE, scriptKeys(limitsKeys(s.tenantId, s.keyId, s.month)), [
      s.requestId,
      s.bucketSec,
      int(s.tokenDelta),
      flag(s.tenantRate),
      flag(s.tenantConcurrency),
      flag(s.keyRate),
      flag(s.keyConcurrency),
      int(s.reserveNano),
      int(s.costNano),
      flag(s.tenantBudget),
      flag(s.keyBudget),
      flag(s.firstAttempt),
    ])) as unknown[];
    const [t, k] = r.map(Number);
    return { tenantSpentNano: t < 0 ? null : t, keySpentNano: k < 0 ? null : k };
  }

  async initBudget(p: BudgetSeed): Promise<number> {
    const key = budgetKey(p.tenantId, p.scope, p.keyId, p.month);
    return Number(await this.redis.run(INIT_BUDGET, [key], [int(p.spentNano), BUDGET_TTL_MS]));
  }

  async budgetStatus(p: BudgetRef): Promise<BudgetStatus | null> {
    const key = budgetKey(p.tenantId, p.scope, p.keyId, p.month);
    const [spent, reserved] = (await this.redis.run(BUDGET_STATUS, [key], [])) as (string | null)[];
    if (spent === null) return null;
    return { spentNano: Number(spent), reservedNano: Number(reserved ?? 0) };
  }

  async close(): Promise<void> {
    // The connection belongs to the KvStore, which CacheModule closes.
  }
}
