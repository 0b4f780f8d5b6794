import { counter, histogram, labelled } from '@app/observability';

/** Router metrics (issue: Router). Created once per process; labels stay bounded (catalog ids). */
export const pipelineMetrics = {
  providerRequests: counter({
    name: 'atp_provider_requests_total',
    help: 'Upstream attempts by provider, model and outcome',
    labelNames: ['provider', 'model', 'outcome'],
  }),
  providerLatency: histogram({
    name: 'atp_provider_latency_seconds',
    help: 'Upstream latency of successful attempts (to the full response, or to the first chunk for streams)',
    labelNames: ['provider', 'model'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
  }),
  providerTtft: histogram({
    name: 'atp_provider_ttft_seconds',
    help: 'Time to first token of streamed completions',
    labelNames: ['provider', 'model'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
  }),
  calls: counter({
    name: 'atp_calls_total',
    help: 'Model calls by door (chat, embeddings, responses, messages) and how they ended',
    labelNames: ['door', 'outcome'],
  }),
  tokens: counter({ name: 'atp_tokens_total', help: 'Tokens by direction', labelNames: ['direction'] }),
  cost: counter({ name: 'atp_cost_usd_total', help: 'Cost of completed requests in USD' }),
  fallbacks: counter({ name: 'atp_fallbacks_total', help: 'Fallbacks to the next candidate' }),
  cache: counter({
    name: 'atp_cache_requests_total',
    help: 'Response cache lookups',
    labelNames: ['result'],
  }),
};

/** Labelled children, memoised (these are observed on every request). */
export const metricChildren = {
  providerRequests: labelled(pipelineMetrics.providerRequests),
  providerLatency: labelled(pipelineMetrics.providerLatency),
  providerTtft: labelled(pipelineMetrics.providerTtft),
  calls: labelled(pipelineMetrics.calls),
  tokens: labelled(pipelineMetrics.tokens),
  cache: labelled(pipelineMetrics.cache),
};
