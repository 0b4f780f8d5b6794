import { isDatabaseUnavailable } from '@app/common';
import type { TenantRepository } from './tenant.repository';

const KNOWN_TTL_MS = 60_000;
const UNKNOWN_TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;
/** With the database down, a tenant known to exist is still accepted this long (tenants are never deleted). */
const KNOWN_IF_DOWN_MS = 10 * 60_000;

/**
 * "Does this tenant exist?" for token principals (an API key's tenant exists by foreign key),
 * cached so a JWT request costs no database round trip either. Tenants are never deleted
 * through the API, so a positive answer can be kept a minute — and, while the database is down,
 * ten minutes: JWT callers of a known tenant keep working through an outage.
 */
export class TenantDirectory {
  private readonly cache = new Map<string, { exists: boolean; at: number }>();

  constructor(
    private readonly tenants: Pick<TenantRepository, 'tenantExists'>,
    private readonly now: () => number,
  ) {}

  async exists(tenantId: string): Promise<boolean> {
    const hit = this.cache.get(tenantId);
    const now = this.now();
    if (hit && now - hit.at < (hit.exists ? KNOWN_TTL_MS : UNKNOWN_TTL_MS)) return hit.exists;
    let exists: boolean;
    try {
      exists = await this.tenants.tenantExists(tenantId);
    } catch (err) {
      if (hit?.exists && now - hit.at < KNOWN_IF_DOWN_MS && isDatabaseUnavailable(err)) return true;
      throw err;
    }
    if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
    this.cache.set(tenantId, { exists, at: now });
    return exists;
  }
}
