import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { UsageRecordEntity } from './usage-record.entity';

export type UsageGroupBy = 'day' | 'model' | 'api_key';

export interface UsageAggregateRow {
  key: string | null;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  costUsd: number;
}

@Injectable()
export class UsageRepository {
  constructor(@InjectRepository(UsageRecordEntity) private readonly repo: Repository<UsageRecordEntity>) {}

  async insertBatch(rows: UsageRecordEntity[]): Promise<void> {
    if (rows.length) await this.repo.insert(rows);
  }

  /** Totals of one tenant's requests in [start, end), grouped. */
  async aggregateForTenant(
    tenantId: string,
    start: Date,
    end: Date,
    groupBy: UsageGroupBy,
  ): Promise<UsageAggregateRow[]> {
    const pg = this.repo.manager.connection.options.type === 'postgres';
    const keyExpr =
      groupBy === 'model'
        ? 'u.model'
        : groupBy === 'api_key'
          ? 'u.api_key_id'
          : pg
            ? "to_char(u.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
            : 'substr(u.created_at, 1, 10)';
    const raw = await this.repo
      .createQueryBuilder('u')
      .select(keyExpr, 'key')
      .addSelect('COUNT(*)', 'requests')
      .addSelect('COALESCE(SUM(u.prompt_tokens), 0)', 'prompt_tokens')
      .addSelect('COALESCE(SUM(u.completion_tokens), 0)', 'completion_tokens')
      .addSelect('COALESCE(SUM(u.total_tokens), 0)', 'total_tokens')
      .addSelect('COALESCE(SUM(u.cost_usd), 0)', 'cost_usd')
      .where('u.tenant_id = :tenantId', { tenantId })
      .andWhere('u.created_at >= :start AND u.created_at < :end', { start, end })
      .groupBy(keyExpr)
      .orderBy(keyExpr, 'ASC')
      .getRawMany<Record<string, string | number | null>>();
    return raw.map((r) => ({
      key: r.key === null ? null : String(r.key),
      requests: Number(r.requests),
      promptTokens: Number(r.prompt_tokens),
      completionTokens: Number(r.completion_tokens),
      totalTokens: Number(r.total_tokens),
      costUsd: Number(r.cost_usd),
    }));
  }

  /**
   * Total cost of a tenant's (or one of its keys') requests since `since`: what a budget has
   * spent, used to rebuild the total when the limits store has lost it (Redis restart, new month).
   */
  async sumCostSince(tenantId: string, apiKeyId: string | null, since: Date): Promise<number> {
    const qb = this.repo
      .createQueryBuilder('u')
      .select('COALESCE(SUM(u.cost_usd), 0)', 'cost')
      .where('u.tenant_id = :tenantId', { tenantId })
      .andWhere('u.created_at >= :since', { since });
    if (apiKeyId) qb.andWhere('u.api_key_id = :apiKeyId', { apiKeyId });
    const raw = await qb.getRawOne<{ cost: string | number | null }>();
    return Number(raw?.cost ?? 0);
  }
}
