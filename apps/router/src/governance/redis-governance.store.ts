import type Redis from 'ioredis';
import type { RedisKvStore } from '@app/cache';
import { budgetKey, BUDGET_TTL_MS, governanceKeys } from './governance-keys';
import type {
  AdmitInput,
  AdmitResult,
  BudgetStatus,
  GovernanceStore,
  RateHeaders,
  RejectKind,
  ScopeName,
  SettleInput,
  SettleResult,
} from './governance.types';
import { ADMIT_LUA } from './lua/admit.lua';
import { INIT_BUDGET_LUA, SETTLE_LUA } from './lua/settle.lua';

type ScriptClient = Redis & {
  atpGovAdmit(...args: (string | number)[]): Promise<number[]>;
  atpGovSettle(...args: (string | number)[]): Promise<number[]>;
  atpGovInitBudget(key: string, spent: string, ttl: number): Promise<number>;
};

const KINDS: RejectKind[] = ['requests', 'tokens', 'concurrency', 'budget'];
const SCOPES: ScopeName[] = ['tenant', 'key'];
const lim = (v: number | undefined): number => (v === undefined ? -1 : Math.floor(v));
const int = (v: number): string => String(Math.round(v));
const flag = (b: boolean): string => (b ? '1' : '0');

export function headersFrom(r: number[]): RateHeaders {
  const headers: RateHeaders = {};
  if (r[4] >= 0) headers.requests = { limit: r[4], remaining: r[5], resetMs: r[6] };
  if (r[7] >= 0) headers.tokens = { limit: r[7], remaining: r[8], resetMs: r[9] };
  return headers;
}

/**
 * The Redis store: each call is one EVALSHA (ioredis falls back to EVAL after a restart),
 * through {@link RedisKvStore.call}: bounded by ATP_REDIS_TIMEOUT_MS, refused at once while
 * Redis is known to be down.
 */
export class RedisGovernanceStore implements GovernanceStore {
  readonly kind = 'redis' as const;

  constructor(private readonly kv: RedisKvStore) {
    const client = kv.client;
    client.defineCommand('atpGovAdmit', { numberOfKeys: 8, lua: ADMIT_LUA });
    client.defineCommand('atpGovSettle', { numberOfKeys: 8, lua: SETTLE_LUA });
    client.defineCommand('atpGovInitBudget', { numberOfKeys: 1, lua: INIT_BUDGET_LUA });
  }

  available(): boolean {
    return this.kv.available();
  }

  private call<T>(fn: (c: ScriptClient) => Promise<T>): Promise<T> {
    return this.kv.call((c) => fn(c as ScriptClient));
  }

  private keys(tenantId: string, keyId: string | null, month: string): string[] {
    return governanceKeys(tenantId, keyId, month).map((k) => this.kv.key(k));
  }

  async admit(i: AdmitInput): Promise<AdmitResult> {
    const keys = this.keys(i.tenantId, i.keyId, i.month);
    const r = await this.call((c) =>
      c.atpGovAdmit(
        ...keys,
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
      ),
    );
    const res = r.map(Number);
    if (res[0] === 2) return { status: 'needs_budget', scope: SCOPES[res[2] - 1] };
    if (res[0] === 1) return { status: 'admitted', bucketSec: res[10], headers: headersFrom(res) };
    return {
      status: 'rejected',
      kind: KINDS[res[1] - 1],
      scope: SCOPES[res[2] - 1],
      retryAfterMs: res[3],
      headers: headersFrom(res),
    };
  }

  async settle(s: SettleInput): Promise<SettleResult> {
    const keys = this.keys(s.tenantId, s.keyId, s.month);
    const r = await this.call((c) =>
      c.atpGovSettle(
        ...keys,
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
      ),
    );
    const [t, k] = r.map(Number);
    return { tenantSpentNano: t < 0 ? null : t, keySpentNano: k < 0 ? null : k };
  }

  async initBudget(p: {
    tenantId: string;
    scope: ScopeName;
    keyId: string | null;
    month: string;
    spentNano: number;
  }): Promise<number> {
    const key = this.kv.key(budgetKey(p.tenantId, p.scope, p.keyId, p.month));
    return Number(await this.call((c) => c.atpGovInitBudget(key, int(p.spentNano), BUDGET_TTL_MS)));
  }

  async budgetStatus(p: {
    tenantId: string;
    scope: ScopeName;
    keyId: string | null;
    month: string;
  }): Promise<BudgetStatus | null> {
    const key = this.kv.key(budgetKey(p.tenantId, p.scope, p.keyId, p.month));
    const [spent, reserved] = await this.call((c) => c.hmget(key, 'spent', 'reserved'));
    if (spent === null) return null;
    return { spentNano: Number(spent), reservedNano: Number(reserved ?? 0) };
  }

  async close(): Promise<void> {
    // The connection belongs to the KvStore, which CacheModule closes.
  }
}
