import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { placeholders, sql, SqlRunner } from '@app/database';
import { num, recordsByKeys, toRecord } from './memory-sql';
import { type Hit, type PostingIndex, type PostingList, topK } from './memory-top-k';
import { isLive, type StoredRecord } from './memory.types';

export interface SearchParams {
  tenantId: string;
  namespace: string;
  /** Hashed words of the query (distinct). */
  tokens: readonly string[];
  /** Hashed tags every result must carry. */
  tags: readonly string[];
  limit: number;
  now: number;
}

/**
 * The search's reads (the ranking itself is {@link topK}). Every statement is planned the same
 * with or without table statistics (this PostgreSQL runs without autovacuum, so a fresh table
 * has none): each posting list is a range of the (tenant, namespace, token|tag, key) primary key
 * read in key order with a LIMIT, and each candidate is looked up by equality on a full key —
 * no join, no IN list on a later key column, no GROUP BY over a word's postings.
 */
@Injectable()
export class MemorySearchRepository {
  private readonly db: SqlRunner;

  constructor(@InjectDataSource() ds: DataSource) {
    this.db = new SqlRunner(ds);
  }

  /** Live records matching the most words (ties by key), holding every tag, with their match counts. */
  async searchRecords(params: SearchParams): Promise<{ record: StoredRecord; matches: number }[]> {
    const hits = await topK(params, this.index(params));
    if (!hits.length) return [];
    const records = await this.findRecords(params, hits);
    // A record deleted or expired since it was scored is left out.
    return hits.flatMap((hit) => {
      const record = records.get(hit.key);
      return record && isLive(record, params.now) ? [{ record, matches: hit.matches }] : [];
    });
  }

  private index(params: SearchParams): PostingIndex {
    return {
      pages: (lists, after, limit) => this.pages(params, lists, after, limit),
      score: (keys) => this.score(params, keys),
    };
  }

  /** One statement: each list's next keys, tagged with the list's position. */
  private async pages(
    at: SearchParams,
    lists: readonly PostingList[],
    after: string,
    limit: number,
  ): Promise<string[][]> {
    const parts = lists.map((list, i) => {
      const [table, column] = list.kind === 'token' ? ['memory_tokens', 'token'] : ['memory_tags', 'tag'];
      return `SELECT ${i} AS list, "key" FROM (SELECT "key" FROM ${table}
        WHERE tenant_id = ? AND namespace = ? AND ${column} = ? AND "key" > ? ORDER BY "key" LIMIT ?) p${i}`;
    });
    const { rows } = await this.db.run(
      sql(
        parts.join('\nUNION ALL\n'),
        ...lists.flatMap((list) => [at.tenantId, at.namespace, list.hash, after, limit]),
      ),
    );
    const pages = lists.map((): string[] => []);
    for (const row of rows) pages[num(row.list)]!.push(String(row.key));
    // UNION ALL keeps no order across its parts; names compare byte-wise, as `<` does on ASCII.
    for (const page of pages) page.sort();
    return pages;
  }

  /**
   * The candidates that are live and carry every tag, with how many query words each holds. The
   * candidates are a VALUES list and every look-up a correlated subquery on a full key: an
   * `IN (…)` list on a key column that is not an index's first would be planned, without
   * statistics, as a scan of the namespace's rows filtered by the list (as the old join was).
   */
  private async score(at: SearchParams, keys: readonly string[]): Promise<Hit[]> {
    const tags = [...new Set(at.tags)];
    const tokens = [...new Set(at.tokens)];
    const tagged = tags.length
      ? `, (SELECT COUNT(*) FROM memory_tags g WHERE g.tenant_id = ? AND g.namespace = ? AND g."key" = c.column1
           AND g.tag IN (${placeholders(tags.length)})) AS tagged`
      : '';
    const { rows } = await this.db.run(
      sql(
        `SELECT c.column1 AS "key",
           (SELECT COUNT(*) FROM memory_tokens t WHERE t.tenant_id = ? AND t.namespace = ? AND t."key" = c.column1
             AND t.token IN (${placeholders(tokens.length)})) AS matches,
           (SELECT COUNT(*) FROM memory_records r WHERE r.tenant_id = ? AND r.namespace = ? AND r."key" = c.column1
             AND (r.expires_at IS NULL OR r.expires_at > ?)) AS live${tagged}
         FROM (VALUES ${keys.map(() => '(?)').join(', ')}) AS c`,
        at.tenantId,
        at.namespace,
        ...tokens,
        at.tenantId,
        at.namespace,
        at.now,
        ...(tags.length ? [at.tenantId, at.namespace, ...tags] : []),
        ...keys,
      ),
    );
    return rows
      .filter(
        (row) =>
          num(row.live) === 1 && num(row.matches) > 0 && (!tags.length || num(row.tagged) === tags.length),
      )
      .map((row) => ({ key: String(row.key), matches: num(row.matches) }));
  }

  /** The hits' rows (at most `limit`, 100). */
  private async findRecords(at: SearchParams, hits: readonly Hit[]): Promise<Map<string, StoredRecord>> {
    const keys = hits.map((h) => h.key);
    const { rows } = await this.db.run(recordsByKeys(at.tenantId, at.namespace, keys));
    return new Map(rows.map((row) => [String(row.key), toRecord(row)]));
  }
}
