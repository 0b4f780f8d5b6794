import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { DataKeyRepository } from '@app/crypto';
import { defer, MEMORY_QUOTA_SQLSTATE, placeholders, sql, type SqlPlan, SqlRunner } from '@app/database';
import { INDEX_FORMAT } from './memory.codec';
import { quotaExceeded, versionMismatch } from './memory.errors';
import { AT, type IndexRow, MEMORY_RECORDS, MEMORY_TAGS, MEMORY_TOKENS, num, numOrNull } from './memory-sql';
import { isLive, type RecordLocation, type StoredRecord } from './memory.types';

export interface PutRecordParams {
  record: Omit<StoredRecord, 'version' | 'createdAt' | 'updatedAt'>;
  /** The data key the record was sealed under: it must still exist when the write commits. */
  dataKeyId: string;
  /** Blind-index tokens of the value, and hashed tags. */
  tokens: readonly string[];
  tags: readonly string[];
  ifMatch: number | '*' | null;
  now: number;
  quota: { records: number; bytes: number };
}

export interface PutRecordResult {
  created: boolean;
  version: number;
  createdAt: number;
  updatedAt: number;
}

interface Usage {
  records: number;
  bytes: number;
}

/**
 * Every write of the memory tables, each a {@link SqlPlan} (one transaction). On PostgreSQL the
 * record's row is locked for read-modify-write (If-Match, versions); SQLite runs each plan alone
 * anyway. Writes whose results nothing reads are deferred: on PostgreSQL they travel together
 * with the COMMIT, so a put is two round trips, and the tenant's usage row (the one lock all of
 * a tenant's writes share, updated last) is held only while the database commits.
 */
@Injectable()
export class MemoryWriteRepository {
  private readonly db: SqlRunner;

  constructor(
    @InjectDataSource() ds: DataSource,
    private readonly dataKeys: DataKeyRepository,
  ) {
    this.db = new SqlRunner(ds);
  }

  /**
   * Creates or replaces a record with its index and tags, enforcing If-Match and the quotas.
   * @throws DataKeyDestroyedError when an erasure destroyed the data key it was sealed under.
   */
  async putRecord(p: PutRecordParams): Promise<PutRecordResult> {
    for (let attempt = 1; ; attempt++) {
      const asked: { usage?: Usage } = {};
      try {
        return await this.db.transaction(() => this.putPlan(p, asked));
      } catch (err) {
        if (attempt >= MAX_PUT_ATTEMPTS) throw err;
        // Another writer created the record between our read and our insert: now it exists.
        if (isUniqueViolation(err)) continue;
        // Over a quota: name it (unless a concurrent delete has made room since: then try again).
        if (isQuotaRefusal(err) && asked.usage) {
          await this.assertRoom(p.record.tenantId, asked.usage, p.quota);
          continue;
        }
        throw err;
      }
    }
  }

  /** Throws the 429 naming the quota that `delta` would exceed now, if any. */
  private async assertRoom(tenantId: string, delta: Usage, quota: Usage): Promise<void> {
    const { rows } = await this.db.run(
      sql('SELECT records, bytes FROM memory_usage WHERE tenant_id = ?', tenantId),
    );
    const used = { records: num(rows[0]?.records ?? 0), bytes: num(rows[0]?.bytes ?? 0) };
    if (delta.records > 0 && used.records + delta.records > quota.records) {
      throw quotaExceeded('records', quota.records, used.records, delta.records);
    }
    if (delta.bytes > 0 && used.bytes + delta.bytes > quota.bytes) {
      throw quotaExceeded('bytes', quota.bytes, used.bytes, delta.bytes);
    }
  }

  private *putPlan(p: PutRecordParams, asked: { usage?: Usage }): SqlPlan<PutRecordResult> {
    const { record: r, now } = p;
    yield* this.dataKeys.hold(r.tenantId, p.dataKeyId);
    const { rows } = yield sql(
      `SELECT version, size_bytes, created_at, expires_at FROM memory_records WHERE ${AT}${this.db.forUpdate}`,
      r.tenantId,
      r.namespace,
      r.key,
    );
    const prior = rows[0]
      ? {
          version: num(rows[0].version),
          sizeBytes: num(rows[0].size_bytes),
          createdAt: num(rows[0].created_at),
          expiresAt: numOrNull(rows[0].expires_at),
        }
      : null;
    const live = prior !== null && isLive(prior, now);
    if (p.ifMatch !== null && (!live || (p.ifMatch !== '*' && p.ifMatch !== prior.version))) {
      throw versionMismatch(p.ifMatch, live ? prior.version : null);
    }
    // A row that expired but was not swept yet is replaced as a new record, keeping its version
    // counting up so an old ETag can never match the new record.
    const version = prior ? prior.version + 1 : 1;
    const createdAt = live ? prior.createdAt : now;
    if (prior) {
      yield defer(
        sql(
          `UPDATE memory_records SET version = ?, value_ciphertext = ?, attrs_ciphertext = ?, size_bytes = ?,
             created_at = ?, updated_at = ?, expires_at = ?, index_version = ? WHERE ${AT}`,
          version,
          r.valueCiphertext,
          r.attrsCiphertext,
          r.sizeBytes,
          createdAt,
          now,
          r.expiresAt,
          INDEX_FORMAT,
          r.tenantId,
          r.namespace,
          r.key,
        ),
      );
    } else {
      // No ON CONFLICT: a concurrent creation of the same record fails this whole transaction
      // (unique violation), and putRecord tries again against the row that now exists.
      yield defer(MEMORY_RECORDS.insert([{ ...r, version, createdAt, updatedAt: now }]));
    }
    const existed = prior !== null;
    yield* replaceIndex(this.db, MEMORY_TOKENS, 'token', r, p.tokens, existed);
    yield* replaceIndex(this.db, MEMORY_TAGS, 'tag', r, p.tags, existed);
    asked.usage = { records: prior ? 0 : 1, bytes: r.sizeBytes - (prior?.sizeBytes ?? 0) };
    yield* this.addUsageWithinQuota(r.tenantId, asked.usage, p.quota);
    return { created: !live, version, createdAt, updatedAt: now };
  }

  /**
   * Adds a write's usage to the tenant's counters and refuses (rolling the write back) when a
   * count that grew is now over its quota. Race-free: on PostgreSQL the upsert waits for the row
   * lock of any concurrent writer; on SQLite the plan runs alone.
   */
  private *addUsageWithinQuota(tenantId: string, delta: Usage, quota: Usage): SqlPlan<void> {
    if (this.db.dialect === 'postgres') {
      // The check in the database (migration MemoryQuota1796633756285): deferred, it goes out
      // with the COMMIT, so the usage row's lock is held only while the database commits.
      yield defer(
        sql(
          'SELECT atp_memory_usage_add(?, ?, ?, ?, ?)',
          tenantId,
          delta.records,
          delta.bytes,
          quota.records,
          quota.bytes,
        ),
      );
      return;
    }
    const { rows } = yield sql(
      `INSERT INTO memory_usage AS u (tenant_id, records, bytes) VALUES (?, ?, ?)
       ON CONFLICT (tenant_id) DO UPDATE SET records = u.records + excluded.records, bytes = u.bytes + excluded.bytes
       RETURNING records, bytes`,
      tenantId,
      delta.records,
      delta.bytes,
    );
    const over = (name: keyof Usage) => delta[name] > 0 && num(rows[0][name]) > quota[name];
    if (over('records') || over('bytes')) throw new QuotaRefused('memory quota exceeded');
  }

  /** Deletes one record: a live one, an expired one not swept yet, or none ('absent'). */
  deleteRecord(
    at: RecordLocation,
    ifMatch: number | '*' | null,
    now: number,
  ): Promise<'live' | 'expired' | 'absent'> {
    const forUpdate = this.db.forUpdate;
    return this.db.transaction(function* (): SqlPlan<'live' | 'expired' | 'absent'> {
      const { rows } = yield sql(
        `SELECT version, size_bytes, expires_at FROM memory_records WHERE ${AT}${forUpdate}`,
        at.tenantId,
        at.namespace,
        at.key,
      );
      const row = rows[0];
      const live = row !== undefined && isLive({ expiresAt: numOrNull(row.expires_at) }, now);
      if (ifMatch !== null && (!live || (ifMatch !== '*' && ifMatch !== num(row.version)))) {
        throw versionMismatch(ifMatch, live ? num(row.version) : null);
      }
      if (!row) return 'absent';
      yield defer(sql(`DELETE FROM memory_records WHERE ${AT}`, at.tenantId, at.namespace, at.key));
      yield* deleteIndex(at);
      yield addUsage(at.tenantId, { records: -1, bytes: -num(row.size_bytes) });
      return live ? 'live' : 'expired';
    });
  }

  /** Deletes a namespace; returns every deleted key and how many were live. */
  deleteNamespace(
    tenantId: string,
    namespace: string,
    now: number,
  ): Promise<{ keys: string[]; live: number }> {
    return this.db.transaction(function* () {
      const { rows } = yield sql(
        'DELETE FROM memory_records WHERE tenant_id = ? AND namespace = ? RETURNING "key", size_bytes, expires_at',
        tenantId,
        namespace,
      );
      if (!rows.length) return { keys: [], live: 0 };
      for (const table of ['memory_tokens', 'memory_tags']) {
        yield defer(sql(`DELETE FROM ${table} WHERE tenant_id = ? AND namespace = ?`, tenantId, namespace));
      }
      const bytes = rows.reduce((sum, r) => sum + num(r.size_bytes), 0);
      yield addUsage(tenantId, { records: -rows.length, bytes: -bytes });
      return {
        keys: rows.map((r) => String(r.key)),
        live: rows.filter((r) => isLive({ expiresAt: numOrNull(r.expires_at) }, now)).length,
      };
    });
  }

  /** Deletes every memory row of the tenant (records, index, tags, usage, namespace settings). */
  eraseTenant(tenantId: string): Promise<{ records: number; keys: { namespace: string; key: string }[] }> {
    return this.db.transaction(function* () {
      const { rows } = yield sql('SELECT namespace, "key" FROM memory_records WHERE tenant_id = ?', tenantId);
      for (const table of [
        'memory_records',
        'memory_tokens',
        'memory_tags',
        'memory_usage',
        'memory_namespaces',
        // The router's stored responses: encrypted with the same data key, erased with the memory.
        'stored_responses',
      ]) {
        yield defer(sql(`DELETE FROM ${table} WHERE tenant_id = ?`, tenantId));
      }
      return {
        records: rows.length,
        keys: rows.map((r) => ({ namespace: String(r.namespace), key: String(r.key) })),
      };
    });
  }

  /** Deletes those of one tenant's records that are still expired; returns the ones deleted. */
  sweepTenant(tenantId: string, records: readonly RecordLocation[], now: number): Promise<RecordLocation[]> {
    return this.db.transaction(function* () {
      const swept: RecordLocation[] = [];
      let bytes = 0;
      for (const at of records) {
        const { rows } = yield sql(
          `DELETE FROM memory_records WHERE ${AT} AND expires_at IS NOT NULL AND expires_at <= ? RETURNING size_bytes`,
          tenantId,
          at.namespace,
          at.key,
          now,
        );
        if (!rows.length) continue;
        bytes += num(rows[0].size_bytes);
        swept.push({ tenantId, namespace: at.namespace, key: at.key });
        yield* deleteIndex({ tenantId, namespace: at.namespace, key: at.key });
      }
      if (swept.length) yield addUsage(tenantId, { records: -swept.length, bytes: -bytes });
      return swept;
    });
  }
}

const MAX_PUT_ATTEMPTS = 5;

/** SQLite's {@link MemoryWriteRepository.addUsageWithinQuota} refusal. */
class QuotaRefused extends Error {
  readonly code = MEMORY_QUOTA_SQLSTATE;
}

/** A write over a quota (the PostgreSQL function raises the same SQLSTATE). */
function isQuotaRefusal(err: unknown): boolean {
  return (err as { code?: unknown }).code === MEMORY_QUOTA_SQLSTATE;
}

/** PostgreSQL's or SQLite's duplicate-key error. */
function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** Adds to the tenant's usage without a check: space freed by a delete or a sweep. */
function addUsage(tenantId: string, delta: Usage) {
  return defer(
    sql(
      'UPDATE memory_usage SET records = records + ?, bytes = bytes + ? WHERE tenant_id = ?',
      delta.records,
      delta.bytes,
      tenantId,
    ),
  );
}

function* deleteIndex(at: RecordLocation): SqlPlan<void> {
  yield defer(sql(`DELETE FROM memory_tokens WHERE ${AT}`, at.tenantId, at.namespace, at.key));
  yield defer(sql(`DELETE FROM memory_tags WHERE ${AT}`, at.tenantId, at.namespace, at.key));
}

/**
 * Makes a record's index rows exactly `values`. On PostgreSQL only the rows no longer wanted
 * are deleted (rewriting a record with the same words changes no row); SQLite's planner would
 * serve that `NOT IN` delete from a scan of the namespace's rows, so there all of the record's
 * rows are deleted, by the record index, and inserted again.
 */
export function* replaceIndex(
  db: SqlRunner,
  table: typeof MEMORY_TOKENS,
  column: 'token' | 'tag',
  at: RecordLocation,
  values: readonly string[],
  existed: boolean,
): SqlPlan<void> {
  const distinct = [...new Set(values)];
  if (existed) {
    const keep =
      db.dialect === 'postgres' && distinct.length
        ? ` AND ${column} NOT IN (${placeholders(distinct.length)})`
        : '';
    yield defer(
      sql(
        `DELETE FROM ${table.name} WHERE ${AT}${keep}`,
        at.tenantId,
        at.namespace,
        at.key,
        ...(keep ? distinct : []),
      ),
    );
  }
  const rows = distinct.map((value): IndexRow => ({ ...at, value }));
  yield* db.insertStatements(table, rows, 'ON CONFLICT DO NOTHING').map(defer);
}
