import { counter, gauge } from '@app/observability';

/**
 * Governance metrics (issue 6). Labels are bounded: kinds, actions, and tenants only when opted in.
 * Get-or-create at service construction (not at import), so an app built after a registry reset
 * (tests booting several replicas in one process) exports live metrics.
 */
export const limitsMetrics = () => ({
  rateRejections: counter({
    name: 'atp_ratelimit_rejections_total',
    help: 'Requests refused by a rate limit, by kind (requests, tokens, concurrency, store_unavailable)',
    labelNames: ['kind'],
  }),
  budgetRejections: counter({
    name: 'atp_budget_rejections_total',
    help: 'Requests refused because their worst-case cost did not fit the budget (or the budget store was unreachable)',
  }),
  budgetSpend: gauge({
    name: 'atp_budget_spend_usd',
    help: 'Month-to-date spend per tenant in USD (only with ATP_BUDGET_METRICS_PER_TENANT=true)',
    labelNames: ['tenant'],
  }),
  piiActions: counter({
    name: 'atp_pii_prompt_actions_total',
    help: 'Prompt PII policy outcomes (none, redacted, blocked)',
    labelNames: ['action'],
  }),
  unenforced: counter({
    name: 'atp_ratelimit_store_unavailable_total',
    help: 'Admissions while the limits store (Redis) was unreachable, by what the policy did (allowed, rejected)',
    labelNames: ['outcome'],
  }),
  settleFailures: counter({
    name: 'atp_governance_settle_failures_total',
    help: 'Settlements (token correction, budget spend) that failed and were queued for retry',
  }),
});
export type GovernanceMetrics = ReturnType<typeof limitsMetrics>;
