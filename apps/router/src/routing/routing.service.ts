import { Inject, Injectable } from '@nestjs/common';
import { KV_STORE, type KvStore } from '@app/cache';
import { gauge, labelled } from '@app/observability';
import { type ProviderIds, ProviderRegistry } from '@app/providers';
import type { CatalogModel, ModelKind } from './catalog';
import { CircuitBreaker } from './circuit-breaker';
import { type Catalog, type ResolvedRoute, resolveModel } from './resolve-model';
import { CATALOG } from './routing.tokens';
import { RoutingStatsStore } from './routing-stats.store';
import { orderCandidates } from './strategies';

export interface RoutePlan {
  route: ResolvedRoute;
  /** Candidates in the order to try them; open circuits are moved to the end. */
  attempts: CatalogModel[];
}

@Injectable()
export class RoutingService {
  readonly breaker: CircuitBreaker;
  private readonly circuitOpen = gauge({
    name: 'atp_circuit_open',
    help: '1 while the circuit of a provider+model is open',
    labelNames: ['provider', 'model'],
  });
  private readonly circuitOpenOf = labelled(this.circuitOpen);
  /** What atp_circuit_open last said per model: the gauge is written on changes only. */
  private readonly circuitShown = new Map<string, boolean>();

  constructor(
    @Inject(CATALOG) readonly catalog: Catalog,
    private readonly registry: ProviderRegistry,
    private readonly stats: RoutingStatsStore,
    @Inject(KV_STORE) kv: KvStore,
  ) {
    this.breaker = new CircuitBreaker(kv);
  }

  /** Which providers have an adapter (a live view of the registry). */
  configuredProviders(): ProviderIds {
    return this.registry;
  }

  async plan(model: string, kind: ModelKind): Promise<RoutePlan> {
    const route = resolveModel(model, kind, this.catalog, this.configuredProviders());
    const ordered = orderCandidates(route, (m) => this.stats.get(m.provider, m.upstream));
    const open = await Promise.all(
      ordered.map((m) => this.breaker.isOpen(m.provider, m.upstream).catch(() => false)),
    );
    for (let i = 0; i < ordered.length; i++) this.showCircuit(ordered[i], open[i]);
    // An open circuit is skipped while others remain; if all are open the least bad is still tried.
    const attempts = open.includes(true)
      ? [...ordered.filter((_, i) => !open[i]), ...ordered.filter((_, i) => open[i])]
      : ordered;
    return { route, attempts };
  }

  /** Sets atp_circuit_open{provider,model} when it changes (prom-client hashes labels per set). */
  private showCircuit(model: CatalogModel, open: boolean): void {
    const key = `${model.provider}\u0000${model.id}`;
    if (this.circuitShown.get(key) === open) return;
    this.circuitShown.set(key, open);
    this.circuitOpenOf(model.provider, model.id).set(open ? 1 : 0);
  }

  async recordOutcome(model: CatalogModel, ok: boolean, latencyMs: number | null): Promise<void> {
    await this.stats.record(model.provider, model.upstream, ok, latencyMs);
    try {
      if (ok) await this.breaker.recordSuccess(model.provider, model.upstream);
      else if (await this.breaker.recordFailure(model.provider, model.upstream)) {
        this.showCircuit(model, true);
      }
    } catch {
      // The breaker is advisory: a Redis hiccup must not fail the request.
    }
  }
}
