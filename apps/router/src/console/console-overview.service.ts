import { Injectable } from '@nestjs/common';
import { AuditService } from '@app/audit';
import { TenantService } from '@app/auth';
import { AdmissionService } from '../limits/admission.service';
import { UsageRecorder } from '../usage/usage-recorder';
import { bucketsOf, monthStart, type Period } from './console-period';
import { ConsoleStatsRepository, type Measures, type RollupDim } from './console-stats.repository';

const DIMS: RollupDim[] = ['model', 'provider', 'key', 'route'];
const REFUSAL_STATUSES = [403, 422, 429] as const;

const round = (usd: number) => Number(usd.toFixed(8));

function withRates(m: Measures) {
  return {
    requests: m.requests,
    errors: m.errors,
    error_rate: m.requests ? m.errors / m.requests : 0,
    prompt_tokens: m.prompt_tokens,
    completion_tokens: m.completion_tokens,
    total_tokens: m.total_tokens,
    cost_usd: round(m.cost_usd),
    avg_latency_ms: m.requests ? Math.round(m.latency_ms_sum / m.requests) : 0,
    cached: m.cached,
  };
}

/**
 * The Overview page in one call: every number is aggregated by the database from the hourly
 * rollups (a few thousand rows for a month, whatever the traffic), never from raw usage rows.
 */
@Injectable()
export class ConsoleOverviewService {
  constructor(
    private readonly stats: ConsoleStatsRepository,
    private readonly recorder: UsageRecorder,
    private readonly admission: AdmissionService,
    private readonly tenants: TenantService,
    private readonly audit: AuditService,
  ) {}

  async overview(tenantId: string, period: Period) {
    // Usage rows and audit events are batched off the request path: write what is queued so the
    // numbers are current (refusals are counted from the audit log).
    await Promise.all([this.recorder.flush(), this.audit.flush().catch(() => undefined)]);
    const { start, end, granularity } = period;
    const [series, refusals, keyNames, budget, breakdowns] = await Promise.all([
      this.stats.series(tenantId, start, end, granularity),
      this.stats.refusals(tenantId, start, end, granularity),
      this.stats.keyNames(tenantId),
      this.budget(tenantId),
      this.stats.breakdowns(tenantId, DIMS, start, end),
    ]);
    const byBucket = new Map(series.map((s) => [s.bucket, s]));
    const refusedBy = new Map<string, Record<string, number>>();
    const refusedTotal: Record<string, number> = Object.fromEntries(REFUSAL_STATUSES.map((s) => [s, 0]));
    for (const r of refusals) {
      const entry = refusedBy.get(r.bucket) ?? Object.fromEntries(REFUSAL_STATUSES.map((s) => [s, 0]));
      entry[r.status] = (entry[r.status] ?? 0) + r.count;
      refusedBy.set(r.bucket, entry);
      refusedTotal[r.status] = (refusedTotal[r.status] ?? 0) + r.count;
    }
    const empty: Measures = {
      requests: 0,
      errors: 0,
      prompt_tokens: 0,
      completion_tokens: 0,
      total_tokens: 0,
      cost_usd: 0,
      latency_ms_sum: 0,
      cached: 0,
    };
    const totals = series.reduce<Measures>((t, s) => {
      const out = { ...t };
      for (const k of Object.keys(empty) as (keyof Measures)[]) out[k] += s[k];
      return out;
    }, empty);
    const [byModel, byProvider, byKey, byRoute] = DIMS.map((d) => breakdowns.get(d) ?? []);
    return {
      object: 'console.overview',
      tenant_id: tenantId,
      period: { start: start.toISOString(), end: end.toISOString(), granularity },
      totals: withRates(totals),
      series: bucketsOf(period).map((bucket) => ({
        bucket,
        ...withRates(byBucket.get(bucket) ?? empty),
        refused: refusedBy.get(bucket) ?? Object.fromEntries(REFUSAL_STATUSES.map((s) => [s, 0])),
      })),
      refusals: { ...refusedTotal, total: REFUSAL_STATUSES.reduce((n, s) => n + refusedTotal[s], 0) },
      by_model: byModel.map((r) => ({ model: r.value, ...withRates(r) })),
      by_provider: byProvider.map((r) => ({ provider: r.value, ...withRates(r) })),
      by_key: byKey.map((r) => ({
        api_key_id: r.value || null,
        name: r.value ? (keyNames.get(r.value)?.name ?? null) : '(platform token)',
        revoked: r.value ? (keyNames.get(r.value)?.revoked ?? false) : false,
        ...withRates(r),
      })),
      by_route: byRoute.map((r) => ({ route: r.value, ...withRates(r) })),
      budget,
    };
  }

  /**
   * The month's spend from the usage rows (exact: the ledger) beside the limits store's view —
   * spent and still reserved by calls in flight — against the tenant's monthly budget.
   */
  async budget(tenantId: string) {
    const since = monthStart();
    const [limits, ledger, store] = await Promise.all([
      this.tenants.getLimits(tenantId),
      this.stats.breakdown(tenantId, 'endpoint', since, new Date(Date.now() + 3_600_000)),
      this.admission.budgetStatus(tenantId).catch(() => null),
    ]);
    const spent = ledger.reduce((n, r) => n + r.cost_usd, 0);
    const budgetUsd = limits.monthlyBudgetUsd ?? null;
    return {
      month: since.toISOString().slice(0, 7),
      monthly_budget_usd: budgetUsd,
      spent_usd: round(spent),
      reserved_usd: store ? round(store.reservedUsd) : 0,
      store_spent_usd: store ? round(store.spentUsd) : null,
      remaining_usd:
        budgetUsd === null ? null : round(Math.max(0, budgetUsd - spent - (store?.reservedUsd ?? 0))),
    };
  }

  /** This month's spend per API key id. */
  async monthSpendByKey(tenantId: string): Promise<Map<string, number>> {
    const rows = await this.stats.breakdown(
      tenantId,
      'key',
      monthStart(),
      new Date(Date.now() + 3_600_000),
      10_000,
    );
    return new Map(rows.map((r) => [r.value, round(r.cost_usd)]));
  }
}
