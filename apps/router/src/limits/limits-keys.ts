import type { ScopeName } from './limits.types';

/** The store keys of one request: a tenant, maybe one of its API keys, a budget month. */
export interface LimitsKeys {
  /** Sliding window of requests and tokens per minute (a hash of one-second buckets). */
  tenantWindow: string;
  /** Concurrency leases (members = request ids, scored by expiry). */
  tenantLeases: string;
  keyWindow: string;
  keyLeases: string;
  /** The month's budget: `spent` and `reserved`, nano-USD. */
  tenantBudget: string;
  /** The month's open reservations (members `requestId:amount`, scored by expiry). */
  tenantReservations: string;
  keyBudget: string;
  keyReservations: string;
}

/**
 * Store keys. Every key of a request carries the tenant as a Redis Cluster hash tag (`{…}`), so
 * the one admission script may touch the tenant's and the key's counters in a single slot.
 */
export function limitsKeys(tenantId: string, keyId: string | null, month: string): LimitsKeys {
  const t = `gov:{${tenantId}}`;
  const k = keyId ?? '-';
  return {
    tenantWindow: `${t}:rl:t`,
    tenantLeases: `${t}:cc:t`,
    keyWindow: `${t}:rl:k:${k}`,
    keyLeases: `${t}:cc:k:${k}`,
    tenantBudget: `${t}:bud:t:${month}`,
    tenantReservations: `${t}:res:t:${month}`,
    keyBudget: `${t}:bud:k:${k}:${month}`,
    keyReservations: `${t}:res:k:${k}:${month}`,
  };
}

/** The keys in the order the admission and settlement scripts read them as KEYS[1…8]. */
export function scriptKeys(k: LimitsKeys): string[] {
  return [
    k.tenantWindow,
    k.tenantLeases,
    k.keyWindow,
    k.keyLeases,
    k.tenantBudget,
    k.tenantReservations,
    k.keyBudget,
    k.keyReservations,
  ];
}

export function budgetKey(tenantId: string, scope: ScopeName, keyId: string | null, month: string): string {
  const keys = limitsKeys(tenantId, keyId, month);
  return scope === 'tenant' ? keys.tenantBudget : keys.keyBudget;
}

/** A budget total outlives its month a little, then expires by itself. */
export const BUDGET_TTL_MS = 40 * 86_400_000;
