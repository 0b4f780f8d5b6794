import type { ScopeName } from './governance.types';

/**
 * Store keys. Every key of a request carries the tenant as a Redis Cluster hash tag (`{…}`), so
 * the one admission script may touch the tenant's and the key's counters in a single slot.
 */
export function governanceKeys(tenantId: string, keyId: string | null, month: string): string[] {
  const t = `gov:{${tenantId}}`;
  const k = keyId ?? '-';
  return [
    `${t}:rl:t`,
    `${t}:cc:t`,
    `${t}:rl:k:${k}`,
    `${t}:cc:k:${k}`,
    `${t}:bud:t:${month}`,
    `${t}:res:t:${month}`,
    `${t}:bud:k:${k}:${month}`,
    `${t}:res:k:${k}:${month}`,
  ];
}

export function budgetKey(tenantId: string, scope: ScopeName, keyId: string | null, month: string): string {
  const keys = governanceKeys(tenantId, keyId, month);
  return scope === 'tenant' ? keys[4] : keys[6];
}

/** A budget total outlives its month a little, then expires by itself. */
export const BUDGET_TTL_MS = 40 * 86_400_000;
