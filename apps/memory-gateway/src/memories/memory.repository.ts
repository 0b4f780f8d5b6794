import { Injectable } from '@nestjs/common';
import { sql, SqlRunner } from '../database/sql-runner';
import { num, placeholders, RECORD_COLUMNS, SUMMARY_COLUMNS, AT, toRecord, toSummary } from './memory-sql';
import { isLive, type RecordLocation, type RecordSummary, type StoredRecord } from './memory.types';

/** Every read of the memory tables (writes: {@link MemoryWriteRepository}). Each query takes the tenant id. */
@Injectable()
export class MemoryRepository {
  constructor(private readonly db: SqlRunner) {}

  async findRecord(at: RecordLocation): Promise<StoredRecord | null> {
    const { rows } = await this.db.run(
      sql(`SELECT ${RECORD_COLUMNS} FROM memory_records WHERE ${AT}`, at.tenantId, at.namespace, at.key),
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** Live records in key order after `afterKey`, optionally by key prefix and one hashed tag. */
  async listRecords(params: {
    tenantId: string;
    namespace: string;
    prefix: string;
    tag: string | null;
    afterKey: string | null;
    limit: number;
    now: number;
  }): Promise<RecordSummary[]> {
    const where = ['r.tenant_id = ?', 'r.namespace = ?', '(r.expires_at IS NULL OR r.expires_at > ?)'];
    const args: unknown[] = [params.tenantId, params.namespace, params.now];
    if (params.prefix) {
      where.push('substr(r."key", 1, ?) = ?');
      args.push(params.prefix.length, params.prefix);
    }
    if (params.afterKey !== null) {
      where.push('r."key" > ?');
      args.push(params.afterKey);
    }
    if (params.tag !== null) {
      where.push(
        'EXISTS (SELECT 1 FROM memory_tags g WHERE g.tenant_id = r.tenant_id AND g.namespace = r.namespace AND g.tag = ? AND g."key" = r."key")',
      );
      args.push(params.tag);
    }
    const { rows } = await this.db.run(
      sql(
        `SELECT ${SUMMARY_COLUMNS} FROM memory_records r WHERE ${where.join(' AND ')} ORDER BY r."key" LIMIT ?`,
        ...args,
        params.limit,
      ),
    );
    return rows.map(toSummary);
  }

  /**
   * Live records matching the most blind tokens (ties by key), holding every given tag. Each
   * batch is one statement (one round trip): the candidates ranked from the token table alone,
   * by primary-key look-ups, then their rows joined by primary key.
   */
  async searchRecords(params: {
    tenantId: string;
    namespace: string;
    tokens: readonly string[];
    tags: readonly string[];
    limit: number;
    now: number;
  }): Promise<{ record: StoredRecord; matches: number }[]> {
    const { tenantId, namespace, tokens, tags, limit } = params;
    const batch = Math.max(limit * 2, 20);
    const columns = RECORD_COLUMNS.split(', ')
      .map((c) => `r.${c}`)
      .join(', ');
    // One equality look-up per token (not `token IN (…)`): each is an exact primary-key range,
    // which the planner picks even without statistics.
    const distinct = [...new Set(tokens)];
    const matching = distinct
      .map(() => 'SELECT "key" FROM memory_tokens WHERE tenant_id = ? AND namespace = ? AND token = ?')
      .join(' UNION ALL ');
    const found: { record: StoredRecord; matches: number }[] = [];
    for (let offset = 0, round = 0; found.length < limit && round < 50; offset += batch, round++) {
      // LEFT JOIN: a candidate whose row is gone still counts towards a full batch.
      const { rows } = await this.db.run(
        sql(
          `WITH ranked AS (
             SELECT "key", COUNT(*) AS matches FROM (${matching}) m
             GROUP BY "key" ORDER BY matches DESC, "key" ASC LIMIT ? OFFSET ?)
           SELECT ranked."key" AS ranked_key, ranked.matches, ${columns} FROM ranked
           LEFT JOIN memory_records r ON r.tenant_id = ? AND r.namespace = ? AND r."key" = ranked."key"
           ORDER BY ranked.matches DESC, ranked."key" ASC`,
          ...distinct.flatMap((token) => [tenantId, namespace, token]),
          batch,
          offset,
          tenantId,
          namespace,
        ),
      );
      if (!rows.length) break;
      const live = rows.filter((r) => r.version !== null && r.version !== undefined).map(toRecord);
      const records = new Map(live.filter((r) => isLive(r, params.now)).map((r) => [r.key, r]));
      const keys = rows.map((r) => String(r.ranked_key));
      const tagged = tags.length ? await this.keysWithTags(tenantId, namespace, keys, tags) : null;
      for (const row of rows) {
        const record = records.get(String(row.ranked_key));
        if (!record || (tagged && !tagged.has(record.key))) continue;
        found.push({ record, matches: num(row.matches) });
        if (found.length === limit) break;
      }
      if (rows.length < batch) break;
    }
    return found;
  }

  /** Which of the keys carry every one of the hashed tags. */
  private async keysWithTags(
    tenantId: string,
    namespace: string,
    keys: readonly string[],
    tags: readonly string[],
  ): Promise<Set<string>> {
    const distinct = [...new Set(tags)];
    const { rows } = await this.db.run(
      sql(
        `SELECT "key" FROM memory_tags WHERE tenant_id = ? AND namespace = ? AND "key" IN (${placeholders(keys.length)})
         AND tag IN (${placeholders(distinct.length)}) GROUP BY "key" HAVING COUNT(*) = ?`,
        tenantId,
        namespace,
        ...keys,
        ...distinct,
        distinct.length,
      ),
    );
    return new Set(rows.map((r) => String(r.key)));
  }

  /** Up to `limit` expired records of any tenant (for the sweeper). */
  async findExpired(now: number, limit: number): Promise<RecordLocation[]> {
    const { rows } = await this.db.run(
      sql(
        'SELECT tenant_id, namespace, "key" FROM memory_records WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?',
        now,
        limit,
      ),
    );
    return rows.map((r) => ({
      tenantId: String(r.tenant_id),
      namespace: String(r.namespace),
      key: String(r.key),
    }));
  }

  async findNamespaceMode(tenantId: string, namespace: string): Promise<string | null> {
    const { rows } = await this.db.run(
      sql(
        'SELECT pii_mode FROM memory_namespaces WHERE tenant_id = ? AND namespace = ?',
        tenantId,
        namespace,
      ),
    );
    return rows[0] ? String(rows[0].pii_mode) : null;
  }

  async saveNamespaceMode(
    tenantId: string,
    namespace: string,
    mode: string | null,
    now: number,
  ): Promise<void> {
    if (mode === null) {
      await this.db.run(
        sql('DELETE FROM memory_namespaces WHERE tenant_id = ? AND namespace = ?', tenantId, namespace),
      );
      return;
    }
    await this.db.run(
      sql(
        `INSERT INTO memory_namespaces (tenant_id, namespace, pii_mode, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (tenant_id, namespace) DO UPDATE SET pii_mode = excluded.pii_mode, updated_at = excluded.updated_at`,
        tenantId,
        namespace,
        mode,
        now,
      ),
    );
  }
}
