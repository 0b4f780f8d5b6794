import { Inject, Injectable } from '@nestjs/common';
import { TenantService } from '@app/auth';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { type PiiMode, resolvePiiMode } from '@app/pii';
import { MemorySettings } from '../memories/memory.settings';
import { MemoryRepository } from '../memories/memory.repository';

interface Cached {
  mode: string | null;
  at: number;
}

/**
 * Which PII mode applies to a write: `PII_DETECTION_ENABLED=false` turns it off everywhere;
 * otherwise the namespace's own mode (set by an admin), else the stricter of the tenant's and the
 * API key's `Limits.piiMode` (a key may tighten its tenant's mode, never loosen it), else
 * `redact`. Tenant and namespace modes are cached in-process for a few seconds.
 */
@Injectable()
export class PiiPolicy {
  private readonly tenantModes = new Map<string, Cached>();
  private readonly namespaceModes = new Map<string, Cached>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tenants: TenantService,
    private readonly memories: MemoryRepository,
    private readonly settings: MemorySettings,
  ) {}

  get enabled(): boolean {
    return (this.config.env as { PII_DETECTION_ENABLED?: boolean }).PII_DETECTION_ENABLED !== false;
  }

  async modeFor(params: {
    tenantId: string;
    namespace: string;
    keyPiiMode: string | null;
  }): Promise<PiiMode> {
    if (!this.enabled) return 'off';
    const [tenantMode, namespaceMode] = await Promise.all([
      this.cached(this.tenantModes, params.tenantId, async () => {
        return (await this.tenants.getLimits(params.tenantId)).piiMode ?? null;
      }).then((mode) => stricter(mode, params.keyPiiMode)),
      this.cached(this.namespaceModes, `${params.tenantId}/${params.namespace}`, () =>
        this.memories.findNamespaceMode(params.tenantId, params.namespace),
      ),
    ]);
    return resolvePiiMode({ enabled: true, tenantMode, namespaceMode });
  }

  /** Drops a cached namespace mode (after it changed on this replica). */
  forgetNamespace(tenantId: string, namespace: string): void {
    this.namespaceModes.delete(`${tenantId}/${namespace}`);
  }

  private async cached(
    map: Map<string, Cached>,
    id: string,
    load: () => Promise<string | null>,
  ): Promise<string | null> {
    const now = Date.now();
    const hit = map.get(id);
    if (hit && now - hit.at < this.settings.tenantModeCacheMs) return hit.mode;
    const mode = await load();
    if (map.size > 10_000) map.clear();
    map.set(id, { mode, at: now });
    return mode;
  }
}

const STRICTNESS: Record<string, number> = { off: 0, detect: 1, mask: 2, hash: 2, redact: 2, block: 3 };

/** The stricter of two optional modes (null when neither is set). */
export function stricter(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return (STRICTNESS[b] ?? 0) > (STRICTNESS[a] ?? 0) ? b : a;
}
