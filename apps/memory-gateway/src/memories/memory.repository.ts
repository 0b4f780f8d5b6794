import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { sql, SqlRunner } from '@app/database';
import { RECORD_COLUMNS, SUMMARY_COLUMNS, AT, toRecord, toSummary } from './memory-sql';
import { type RecordLocation, type RecordSummary, type StoredRecord } from './memory.types';

/**
 * Every read of the memory tables but search's ({@link MemorySearchRepository}; writes:
 * {@link MemoryWriteRepository}). Each query takes the tenant id.
 */
@Injectable()
export class MemoryRepository {
  private readonly db: SqlRunner;

  constructor(@InjectDataSource() ds: DataSource) {
    this.db = new SqlRunner(ds);
  }

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
