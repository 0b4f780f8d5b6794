import { Injectable } from '@nestjs/common';
import { type Limits, TenantService } from '@app/auth';
import { isDatabaseUnavailable } from '@app/common';

const FRESH_MS = 2_000;
/**
 * With the database down, the last limits read are used this long. Limits cannot change while
 * the database is down (PUT /v1/admin/limits writes there), so serving them is safe.
 */
const STALE_IF_DOWN_MS = 10 * 60_000;
const MAX_ENTRIES = 50_000;

/**
 * The tenant's limits, read from the database at most once per tenant every 2 s per replica,
 * so the hot path costs a map lookup. A change made with PUT /v1/admin/limits applies on every
 * replica within 2 s. With the database down the last limits read keep applying (10 min at
 * most); a tenant never read answers 503 database_unavailable (the global filter maps it).
 */
@Injectable()
export class TenantLimitsCache {
  private readonly cache = new Map<string, { limits: Limits; at: number }>();
  private readonly loading = new Map<string, Promise<Limits>>();

  constructor(private readonly tenants: TenantService) {}

  async get(tenantId: string, now = Date.now()): Promise<Limits> {
    const hit = this.cache.get(tenantId);
    if (hit && now - hit.at < FRESH_MS) return hit.limits;
    let pending = this.loading.get(tenantId);
    if (!pending) {
      pending = this.tenants.getLimits(tenantId).finally(() => this.loading.delete(tenantId));
      this.loading.set(tenantId, pending);
    }
    let limits: Limits;
    try {
      limits = await pending;
    } catch (err) {
      if (hit && now - hit.at < STALE_IF_DOWN_MS && isDatabaseUnavailable(err)) return hit.limits;
      throw err;
    }
    if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
    this.cache.set(tenantId, { limits, at: now });
    return limits;
  }

  /** Forget a tenant's limits (tests, or after a local change). */
  invalidate(tenantId: string): void {
    this.cache.delete(tenantId);
  }
}
