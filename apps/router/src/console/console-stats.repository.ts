import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AUDIT_REFUSAL_PREDICATE, placeholders, sql, SqlRunner } from '@app/database';
import { USAGE_RECORDS } from '../usage/usage-record.table';

export type Granularity = 'hour' | 'day';
export type RollupDim = 'model' | 'provider' | 'key' | 'route' | 'endpoint';

export interface Measures {
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost_usd: number;
  latency_ms_sum: number;
  cached: number;
}

export interface UsageRow {
  id: string;
  created_at: string;
  api_key_id: string | null;
  endpoint: string;
  route: string;
  provider: string;
  model: string;
  status: number;
  outcome: string;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost_usd: number;
  latency_ms: number;
  ttft_ms: number | null;
  cached: boolean;
  estimated: boolean;
  stream: boolean;
  attempts: number;
  request_id: string | null;
}

export interface UsageFilters {
  start: Date;
  end: Date;
  apiKeyId?: string;
  model?: string;
  provider?: string;
  route?: string;
  endpoint?: string;
  /** `ok` (< 400), `error` (>= 400) or one status code. */
  status?: 'ok' | 'error' | number;
  requestId?: string;
}

/** Keyset position: the last row of the previous page (created_at as the database's text, id). */
export interface UsageCursor {
  at: string;
  id: string;
}

const SUMS = `SUM(requests) AS requests, SUM(errors) AS errors, SUM(prompt_tokens) AS prompt_tokens,
  SUM(completion_tokens) AS completion_tokens, SUM(total_tokens) AS total_tokens, SUM(cost_usd) AS cost_usd,
  SUM(latency_ms) AS latency_ms_sum, SUM(cached) AS cached`;

/** Numbers from either driver (pg returns bigint sums as strings). */
function measures(r: Record<string, unknown>): Measures {
  const n = (k: string) => Number(r[k] ?? 0);
  return {
    requests: n('requests'),
    errors: n('errors'),
    prompt_tokens: n('prompt_tokens'),
    completion_tokens: n('completion_tokens'),
    total_tokens: n('total_tokens'),
    cost_usd: n('cost_usd'),
    latency_ms_sum: n('latency_ms_sum'),
    cached: n('cached'),
  };
}

/** A usage row as the Requests log shows it: every column but these. */
const USAGE_ROW_COLUMNS = USAGE_RECORDS.list(['tenant_id', 'subject', 'created_at']);

/**
 * The console's reads: aggregates from the hourly `usage_rollups` (kept by a trigger, see the
 * Console migration), keyset pages of usage rows, refusals from the audit log. Every query takes
 * the tenant id first and is served by an index that starts with it.
 */
@Injectable()
export class ConsoleStatsRepository {
  private readonly db: SqlRunner;
  private readonly pg: boolean;

  constructor(@InjectDataSource() ds: DataSource) {
    this.db = new SqlRunner(ds);
    this.pg = this.db.dialect === 'postgres';
  }

  /** Totals per hour or UTC day in [start, end); start/end are whole hours. */
  async series(tenantId: string, start: Date, end: Date, g: Granularity) {
    const { rows } = await this.db.run(
      sql(
        this.formatBuckets(`SELECT ${this.bucketOf('bucket', g)} AS bt, ${SUMS} FROM usage_rollups
         WHERE tenant_id = ? AND dim = 'total' AND bucket >= ? AND bucket < ?
         GROUP BY 1`),
        tenantId,
        start,
        end,
      ),
    );
    return rows.map((r) => ({ bucket: String(r.b), ...measures(r) }));
  }

  /** Totals per value of one dimension in [start, end), most expensive first. */
  async breakdown(tenantId: string, dim: RollupDim, start: Date, end: Date, limit = 50) {
    const { rows } = await this.db.run(
      sql(
        `SELECT value, ${SUMS} FROM usage_rollups
         WHERE tenant_id = ? AND dim = ? AND bucket >= ? AND bucket < ?
         GROUP BY value ORDER BY SUM(cost_usd) DESC, SUM(requests) DESC, value LIMIT ?`,
        tenantId,
        dim,
        start,
        end,
        limit,
      ),
    );
    return rows.map((r) => ({ value: String(r.value), ...measures(r) }));
  }

  /**
   * Totals per value of several dimensions in [start, end) in one query (one round trip instead
   * of one per dimension), each dimension's rows most expensive first, at most `limit` each.
   */
  async breakdowns(tenantId: string, dims: RollupDim[], start: Date, end: Date, limit = 50) {
    const { rows } = await this.db.run(
      sql(
        `SELECT dim, value, ${SUMS} FROM usage_rollups
         WHERE tenant_id = ? AND dim IN (${placeholders(dims.length)}) AND bucket >= ? AND bucket < ?
         GROUP BY dim, value ORDER BY dim, SUM(cost_usd) DESC, SUM(requests) DESC, value`,
        tenantId,
        ...dims,
        start,
        end,
      ),
    );
    const out = new Map<RollupDim, ({ value: string } & Measures)[]>(dims.map((d) => [d, []]));
    for (const r of rows) {
      const list = out.get(r.dim as RollupDim);
      if (list && list.length < limit) list.push({ value: String(r.value), ...measures(r) });
    }
    return out;
  }

  /** Model calls refused by policy (403 allow-list, 422 PII, 429 limits/budget) per bucket and status. */
  async refusals(tenantId: string, start: Date, end: Date, g: Granularity) {
    const { rows } = await this.db.run(
      sql(
        this
          .formatBuckets(`SELECT ${this.bucketOf('occurred_at', g)} AS bt, status_code, COUNT(*) AS n FROM audit_events
         WHERE tenant_id = ? AND occurred_at >= ? AND occurred_at < ? AND ${AUDIT_REFUSAL_PREDICATE}
         GROUP BY 1, 2`),
        tenantId,
        start,
        end,
      ),
    );
    return rows.map((r) => ({ bucket: String(r.b), status: Number(r.status_code), count: Number(r.n) }));
  }

  /**
   * The hour or UTC day a timestamp column falls in. PostgreSQL groups on the truncated time
   * and {@link formatBuckets} formats only the groups; SQLite's timestamps are UTC text.
   */
  private bucketOf(column: string, g: Granularity): string {
    if (this.pg) return `date_trunc('${g}', ${column} AT TIME ZONE 'UTC')`;
    return g === 'hour'
      ? `substr(${column}, 1, 10) || 'T' || substr(${column}, 12, 2) || ':00:00Z'`
      : `substr(${column}, 1, 10) || 'T00:00:00Z'`;
  }

  /** Orders by bucket; on PostgreSQL also turns the bucket timestamps into ISO text. */
  private formatBuckets(grouped: string): string {
    const b = this.pg ? `to_char(g.bt, 'YYYY-MM-DD"T"HH24":00:00Z"')` : 'g.bt';
    return `SELECT ${b} AS b, g.* FROM (${grouped}) g ORDER BY g.bt`;
  }

  /** One page of usage rows, newest first, after `cursor`; `limit + 1` rows tell whether more exist. */
  async usagePage(tenantId: string, f: UsageFilters, cursor: UsageCursor | null, limit: number) {
    const where = ['tenant_id = ?', 'created_at >= ?', 'created_at < ?'];
    const params: unknown[] = [tenantId, f.start, f.end];
    const equal = (column: string, value: unknown) => {
      if (value === undefined) return;
      where.push(`${column} = ?`);
      params.push(value);
    };
    equal('api_key_id', f.apiKeyId);
    equal('model', f.model);
    equal('provider', f.provider);
    equal('route', f.route);
    equal('endpoint', f.endpoint);
    equal('request_id', f.requestId);
    if (f.status === 'ok') where.push('status < 400');
    else if (f.status === 'error') where.push('status >= 400');
    else equal('status', f.status);
    if (cursor) {
      const at = this.pg ? '?::timestamptz' : '?';
      where.push(`(created_at < ${at} OR (created_at = ${at} AND id < ?))`);
      params.push(cursor.at, cursor.at, cursor.id);
    }
    const at = this.pg
      ? `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
      : 'created_at';
    const { rows } = await this.db.run(
      sql(
        `SELECT ${at} AS at, ${USAGE_ROW_COLUMNS} FROM usage_records WHERE ${where.join(' AND ')}
         ORDER BY created_at DESC, id DESC LIMIT ?`,
        ...params,
        limit + 1,
      ),
    );
    return rows.map((r) => ({ at: String(r.at), row: this.usageRow(r) }));
  }

  private usageRow(r: Record<string, unknown>): UsageRow {
    const at = String(r.at);
    return {
      id: String(r.id),
      // SQLite: 'YYYY-MM-DD HH:MM:SS.mmm' (UTC) → ISO; PostgreSQL already gave ISO with microseconds.
      created_at: this.pg ? at : `${at.replace(' ', 'T')}Z`,
      api_key_id: (r.api_key_id as string | null) ?? null,
      endpoint: String(r.endpoint),
      route: String(r.route),
      provider: String(r.provider),
      model: String(r.model),
      status: Number(r.status),
      outcome: String(r.outcome),
      prompt_tokens: Number(r.prompt_tokens),
      completion_tokens: Number(r.completion_tokens),
      total_tokens: Number(r.total_tokens),
      cost_usd: Number(r.cost_usd),
      latency_ms: Number(r.latency_ms),
      ttft_ms: r.ttft_ms === null || r.ttft_ms === undefined ? null : Number(r.ttft_ms),
      cached: Boolean(r.cached),
      estimated: Boolean(r.estimated),
      stream: Boolean(r.stream),
      attempts: Number(r.attempts),
      request_id: (r.request_id as string | null) ?? null,
    };
  }

  /** Names of the tenant's keys, revoked ones included (old usage rows still point at them). */
  async keyNames(tenantId: string): Promise<Map<string, { name: string; prefix: string; revoked: boolean }>> {
    const { rows } = await this.db.run(
      sql('SELECT id, name, prefix, revoked_at FROM api_keys WHERE tenant_id = ?', tenantId),
    );
    return new Map(
      rows.map((r) => [
        String(r.id),
        { name: String(r.name), prefix: String(r.prefix), revoked: r.revoked_at !== null },
      ]),
    );
  }
}
