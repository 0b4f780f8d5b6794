import { sql, type SqlPlan, SqlRunner } from '@app/database';
import { AT, MEMORY_TAGS, MEMORY_TOKENS, num, recordsByKeys, toRecord } from './memory-sql';
import { replaceIndex } from './memory-write.repository';
import type { StoredRecord } from './memory.types';

/** A record to reindex: its key, the version read, its size. */
export interface StaleRecord {
  key: string;
  version: number;
  sizeBytes: number;
}

/** A record's rebuilt index, written only if the record is still at `version`. */
export interface RebuiltIndex {
  key: string;
  version: number;
  tokens: readonly string[];
  tags: readonly string[];
}

/**
 * The reads and writes of `atp memory reindex`, namespace by namespace in key order. Each read is
 * an ordered primary-key range with a LIMIT (a cursor over (namespace, key) as a row comparison
 * was planned as a bitmap scan of everything after it, sorted: quadratic over a tenant), each
 * write a look-up by full key.
 */
export class MemoryReindexRepository {
  constructor(private readonly db: SqlRunner) {}

  /** The first tenant after `after` (in id order) with a record indexed before `format`. */
  nextTenantBehind(after: string, format: number): Promise<string | null> {
    return this.firstBehind('tenant_id', 'tenant_id > ?', [after], format);
  }

  /** The tenant's first namespace after `after` with a record indexed before `format`. */
  nextNamespaceBehind(tenantId: string, after: string, format: number): Promise<string | null> {
    return this.firstBehind('namespace', 'tenant_id = ? AND namespace > ?', [tenantId, after], format);
  }

  /** The least `column` of the records matching `where` that are indexed before `format`. */
  private async firstBehind(
    column: 'tenant_id' | 'namespace',
    where: string,
    args: readonly string[],
    format: number,
  ): Promise<string | null> {
    const { rows } = await this.db.run(
      sql(
        `SELECT ${column} AS name FROM memory_records WHERE ${where} AND index_version < ? ORDER BY ${column} LIMIT 1`,
        ...args,
        format,
      ),
    );
    return rows[0] ? String(rows[0].name) : null;
  }

  /** Up to `limit` of the namespace's records indexed before `format`, after key `after`. */
  async findBehind(
    tenantId: string,
    namespace: string,
    params: { after: string; format: number; limit: number },
  ): Promise<StaleRecord[]> {
    const { rows } = await this.db.run(
      sql(
        `SELECT "key", version, size_bytes FROM memory_records
         WHERE tenant_id = ? AND namespace = ? AND "key" > ? AND index_version < ? ORDER BY "key" LIMIT ?`,
        tenantId,
        namespace,
        params.after,
        params.format,
        params.limit,
      ),
    );
    return rows.map((r) => ({ key: String(r.key), version: num(r.version), sizeBytes: num(r.size_bytes) }));
  }

  /** The stored records (ciphertexts) of these keys of one namespace. */
  async findRecords(tenantId: string, namespace: string, keys: readonly string[]): Promise<StoredRecord[]> {
    const { rows } = await this.db.run(recordsByKeys(tenantId, namespace, keys));
    return rows.map(toRecord);
  }

  /**
   * Replaces the index of every record still at the version it was read at, and marks it as
   * `format`; a record written (or deleted) since is left alone: its writer indexed it anew.
   * One transaction; marking a record first locks its row (a PUT of it waits for the commit).
   * Returns how many were replaced.
   */
  replaceIndexes(
    tenantId: string,
    namespace: string,
    rebuilt: readonly RebuiltIndex[],
    format: number,
  ): Promise<number> {
    const db = this.db;
    return db.transaction(function* (): SqlPlan<number> {
      let replaced = 0;
      for (const r of rebuilt) {
        const { changes } = yield sql(
          `UPDATE memory_records SET index_version = ? WHERE ${AT} AND version = ?`,
          format,
          tenantId,
          namespace,
          r.key,
          r.version,
        );
        if (!changes) continue;
        const at = { tenantId, namespace, key: r.key };
        yield* replaceIndex(db, MEMORY_TOKENS, 'token', at, r.tokens, true);
        yield* replaceIndex(db, MEMORY_TAGS, 'tag', at, r.tags, true);
        replaced++;
      }
      return replaced;
    });
  }
}
