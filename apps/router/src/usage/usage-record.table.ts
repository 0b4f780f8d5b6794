import { SqlTable } from '@app/database';
import type { UsageRecordEntity } from './usage-record.entity';

/**
 * `usage_records` for hand-written SQL: every column of {@link UsageRecordEntity} (a spec checks
 * they agree) with the field it stores. The batch insert and the console's reads use this list.
 */
export const USAGE_RECORDS = new SqlTable<UsageRecordEntity>('usage_records', {
  id: (r) => r.id,
  tenant_id: (r) => r.tenantId,
  api_key_id: (r) => r.apiKeyId,
  subject: (r) => r.subject,
  endpoint: (r) => r.endpoint,
  route: (r) => r.route,
  provider: (r) => r.provider,
  model: (r) => r.model,
  prompt_tokens: (r) => r.promptTokens,
  completion_tokens: (r) => r.completionTokens,
  total_tokens: (r) => r.totalTokens,
  cost_usd: (r) => r.costUsd,
  latency_ms: (r) => r.latencyMs,
  ttft_ms: (r) => r.ttftMs,
  status: (r) => r.status,
  outcome: (r) => r.outcome,
  cached: (r) => r.cached,
  estimated: (r) => r.estimated,
  stream: (r) => r.stream,
  attempts: (r) => r.attempts,
  request_id: (r) => r.requestId,
  created_at: (r) => r.createdAt,
});
