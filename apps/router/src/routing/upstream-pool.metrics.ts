import type { ProviderRegistry } from '@app/providers';
import { counter, gauge } from '@app/observability';

/**
 * The upstream pools' occupancy, read at scrape time from every live registry (tests boot several
 * apps in one process; the metrics are process-wide, so each registry adds its providers' numbers).
 */
const registries = new Set<ProviderRegistry>();

function sum(pick: (s: ReturnType<ProviderRegistry['poolStats']>[number]['stats']) => number) {
  const byProvider = new Map<string, number>();
  for (const registry of registries) {
    for (const { provider, stats } of registry.poolStats()) {
      byProvider.set(provider, (byProvider.get(provider) ?? 0) + pick(stats));
    }
  }
  return byProvider;
}

gauge({
  name: 'atp_upstream_pool_in_use',
  help: 'Upstream exchanges holding a socket of the provider pool (streams hold one throughout)',
  labelNames: ['provider'],
  collect() {
    this.reset();
    for (const [provider, n] of sum((s) => s.inUse)) this.set({ provider }, n);
  },
});

gauge({
  name: 'atp_upstream_pool_waiting',
  help: 'Upstream calls waiting for a free socket (ATP_UPSTREAM_CONNECTIONS all busy)',
  labelNames: ['provider'],
  collect() {
    this.reset();
    for (const [provider, n] of sum((s) => s.waiting)) this.set({ provider }, n);
  },
});

counter({
  name: 'atp_upstream_pool_exhausted_total',
  help: 'Upstream calls that found no free socket within ATP_UPSTREAM_QUEUE_TIMEOUT_MS (failed over, or 503)',
  labelNames: ['provider'],
  collect() {
    this.reset();
    for (const [provider, n] of sum((s) => s.rejected)) this.inc({ provider }, n);
  },
});

export function watchUpstreamPools(registry: ProviderRegistry): void {
  registries.add(registry);
}

export function unwatchUpstreamPools(registry: ProviderRegistry): void {
  registries.delete(registry);
}
