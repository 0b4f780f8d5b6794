import { Injectable } from '@nestjs/common';
import { sql, type SqlPlan, SqlRunner } from '../database/sql-runner';
import { quotaExceeded, versionMismatch } from './memory.errors';
import { AT, CHUNK, num, numOrNull, RECORD_COLUMNS } from './memory-sql';
import { isLive, type RecordLocation, type StoredRecord } from './memory.types';

export interface PutRecordParams {
  record: Omit<StoredRecord, 'version' | 'createdAt' | 'updatedAt'>;
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
 * record's row is locked for read-modify-write (If-Match, versions) and the tenant's usage row is
 * updated last, atomically, against the quotas; SQLite runs each plan alone anyway.
 */
@Injectable()
export class MemoryWriteRepository {
  /** Row lock for read-modify-write on PostgreSQL (SQLite's IMMEDIATE transaction already excludes writers). */
  private readonly forUpdate: string;

  constructor(private readonly db: SqlRunner) {
    this.forUpdate = db.pg ? ' FOR UPDATE' : '';
  }

  /** Creates or replaces a record with its index and tags, enforcing If-Match and the quotas. */
  async putRecord(p: PutRecordParams): Promise<PutRecordResult> {
    try {
      return await this.db.transaction(() => this.putPlan(p));
    } catch (err) {
      // Another writer created the record between our read and our insert: now it exists.
      if (err instanceof ConcurrentCreateError) return this.db.transaction(() => this.putPlan(p));
      throw err;
    }
  }

  private *putPlan(p: PutRecordParams): SqlPlan<PutRecordResult> {
    const { record: r, now } = p;
    const { rows } = yield sql(
      `SELECT version, size_bytes, created_at, expires_at FROM memory_records WHERE ${AT}${this.forUpdate}`,
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
      yield sql(
        `UPDATE memory_records SET version = ?, value_ciphertext = ?, attrs_ciphertext = ?, size_bytes = ?,
           created_at = ?, updated_at = ?, expires_at = ? WHERE ${AT}`,
        version,
        r.valueCiphertext,
        r.attrsCiphertext,
        r.sizeBytes,
        createdAt,
        now,
        r.expiresAt,
        r.tenantId,
        r.namespace,
        r.key,
      );
      yield* deleteIndex(r);
    } else {
      const { changes } = yield sql(
        `INSERT INTO memory_records (${RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        r.tenantId,
        r.namespace,
        r.key,
        version,
        r.sizeBytes,
        createdAt,
        now,
        r.expiresAt,
        r.valueCiphertext,
        r.attrsCiphertext,
      );
      if (!changes) throw new ConcurrentCreateError();
    }
    yield* insertIndex('memory_tokens', 'token', r, p.tokens);
    yield* insertIndex('memory_tags', 'tag', r, p.tags);
    yield* addUsage(
      r.tenantId,
      { records: prior ? 0 : 1, bytes: r.sizeBytes - (prior?.sizeBytes ?? 0) },
      p.quota,
    );
    return { created: !live, version, createdAt, updatedAt: now };
  }

  /** Deletes one record: a live one, an expired one not swept yet, or none ('absent'). */
  deleteRecord(
    at: RecordLocation,
    ifMatch: number | '*' | null,
    now: number,
  ): Promise<'live' | 'expired' | 'absent'> {
    const forUpdate = this.forUpdate;
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
      yield sql(`DELETE FROM memory_records WHERE ${AT}`, at.tenantId, at.namespace, at.key);
      yield* deleteIndex(at);
      yield* addUsage(at.tenantId, { records: -1, bytes: -num(row.size_bytes) }, null);
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
        yield sql(`DELETE FROM ${table} WHERE tenant_id = ? AND namespace = ?`, tenantId, namespace);
      }
      const bytes = rows.reduce((sum, r) => sum + num(r.size_bytes), 0);
      yield* addUsage(tenantId, { records: -rows.length, bytes: -bytes }, null);
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
      ]) {
        yield sql(`DELETE FROM ${table} WHERE tenant_id = ?`, tenantId);
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
      if (swept.length) {
        yield* addUsage(tenantId, { records: -swept.length, bytes: -bytes }, null);
      }
      return swept;
    });
  }
}

/** Thrown inside a put plan when a concurrent writer inserted the same record first. */
class ConcurrentCreateError extends Error {}

/**
 * Adds to the tenant's usage counters, last in every write (the usage row is the one lock all of
 * a tenant's writes share: taking it last keeps it held for one round trip). A quota that the
 * new totals exceed throws, rolling the whole write back.
 */
function* addUsage(tenantId: string, delta: Usage, quota: Usage | null): SqlPlan<void> {
  const update = sql(
    'UPDATE memory_usage SET records = records + ?, bytes = bytes + ? WHERE tenant_id = ? RETURNING records, bytes',
    delta.records,
    delta.bytes,
    tenantId,
  );
  let { rows } = yield update;
  if (!rows.length) {
    yield sql(
      'INSERT INTO memory_usage (tenant_id, records, bytes) VALUES (?, 0, 0) ON CONFLICT (tenant_id) DO NOTHING',
      tenantId,
    );
    ({ rows } = yield update);
  }
  if (!quota) return;
  const after = { records: num(rows[0]!.records), bytes: num(rows[0]!.bytes) };
  if (delta.records > 0 && after.records > quota.records) {
    throw quotaExceeded('records', quota.records, after.records - delta.records, delta.records);
  }
  if (delta.bytes > 0 && after.bytes > quota.bytes) {
    throw quotaExceeded('bytes', quota.bytes, after.bytes - delta.bytes, delta.bytes);
  }
}

function* deleteIndex(at: RecordLocation): SqlPlan<void> {
  yield sql(`DELETE FROM memory_tokens WHERE ${AT}`, at.tenantId, at.namespace, at.key);
  yield sql(`DELETE FROM memory_tags WHERE ${AT}`, at.tenantId, at.namespace, at.key);
}

function* insertIndex(
  table: 'memory_tokens' | 'memory_tags',
  column: 'token' | 'tag',
  at: RecordLocation,
  values: readonly string[],
): SqlPlan<void> {
  const distinct = [...new Set(values)];
  for (let i = 0; i < distinct.length; i += CHUNK) {
    const chunk = distinct.slice(i, i + CHUNK);
    yield sql(
      `INSERT INTO ${table} (tenant_id, namespace, ${column}, "key") VALUES ${chunk.map(() => '(?, ?, ?, ?)').join(', ')}
       ON CONFLICT DO NOTHING`,
      ...chunk.flatMap((v) => [at.tenantId, at.namespace, v, at.key]),
    );
  }
}
