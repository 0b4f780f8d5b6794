import { Injectable } from '@nestjs/common';
import { type Limits, TenantService } from '@app/auth';

const FRESH_MS = 2_000;
const MAX_ENTRIES = 50_000;

/**
 * The tenant's limits, read from the database at most once per tenant every 2 s per replica,
 * so the hot path costs a map lookup. A change made with PUT /v1/admin/limits applies on every
 * replica within 2 s.
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
    const limits = await pending;
    if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
    this.cache.set(tenantId, { limits, at: now });
    return limits;
  }

  /** Forget a tenant's limits (tests, or after a local change). */
  invalidate(tenantId: string): void {
    this.cache.delete(tenantId);
  }
}
