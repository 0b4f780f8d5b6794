import { Injectable } from '@nestjs/common';
import { deferred, sql, type SqlPlan, SqlRunner } from '../database/sql-runner';
import { quotaExceeded, versionMismatch } from './memory.errors';
import { AT, CHUNK, num, numOrNull, placeholders, RECORD_COLUMNS } from './memory-sql';
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
 * updated last, atomically, against the quotas; SQLite runs each plan alone anyway. Writes whose
 * results nothing reads are {@link deferred}: a put is two round trips, and the usage row (the
 * one lock all of a tenant's writes share) is held only while the database commits.
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
    for (let attempt = 1; ; attempt++) {
      const usage: { delta: Usage | null } = { delta: null };
      try {
        return await this.db.transaction(() => this.putPlan(p, usage));
      } catch (err) {
        if (attempt >= MAX_PUT_ATTEMPTS) throw err;
        // Another writer created the record between our read and our insert: now it exists.
        if (isUniqueViolation(err)) continue;
        // The usage guard refused the new totals: report the quota that is exceeded (unless a
        // concurrent delete made room meanwhile: then try again).
        if (isNotNullViolation(err) && usage.delta) {
          await this.assertQuota(p.record.tenantId, usage.delta, p.quota);
          continue;
        }
        throw err;
      }
    }
  }

  private async assertQuota(tenantId: string, delta: Usage, quota: Usage): Promise<void> {
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

  private *putPlan(p: PutRecordParams, usage: { delta: Usage | null }): SqlPlan<PutRecordResult> {
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
      yield deferred(
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
    } else {
      // No ON CONFLICT: a concurrent creation of the same record fails this whole transaction
      // (unique violation), and putRecord tries again against the row that now exists.
      yield deferred(
        `INSERT INTO memory_records (${RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
    }
    const index = { existed: prior !== null, keepUnchanged: this.db.pg };
    yield* replaceIndex('memory_tokens', 'token', r, p.tokens, index);
    yield* replaceIndex('memory_tags', 'tag', r, p.tags, index);
    usage.delta = { records: prior ? 0 : 1, bytes: r.sizeBytes - (prior?.sizeBytes ?? 0) };
    yield* addUsage(r.tenantId, usage.delta, p.quota);
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
      yield deferred(`DELETE FROM memory_records WHERE ${AT}`, at.tenantId, at.namespace, at.key);
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
        yield deferred(`DELETE FROM ${table} WHERE tenant_id = ? AND namespace = ?`, tenantId, namespace);
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
        yield deferred(`DELETE FROM ${table} WHERE tenant_id = ?`, tenantId);
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

const MAX_PUT_ATTEMPTS = 5;

/** PostgreSQL's or SQLite's duplicate-key error. */
function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** PostgreSQL's or SQLite's NOT NULL error: how the usage guard in {@link addUsage} refuses. */
function isNotNullViolation(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === '23502' || code === 'SQLITE_CONSTRAINT_NOTNULL';
}

/**
 * Adds to the tenant's usage counters, last in every write (the usage row is the one lock all of
 * a tenant's writes share: taking it last, deferred to the COMMIT's round trip, keeps it held
 * only while the database commits). The quota check is in the statement, so nothing has to come
 * back to this process before the COMMIT: a total over a quota becomes NULL in a NOT NULL column,
 * which fails the statement and rolls the whole write back (putRecord then names the quota).
 * Only a positive delta is checked, as a write that frees space always passes.
 */
function* addUsage(tenantId: string, delta: Usage, quota: Usage | null): SqlPlan<void> {
  const limit = (d: number, q: number | undefined) => (q !== undefined && d > 0 ? q : null);
  const records = limit(delta.records, quota?.records);
  const bytes = limit(delta.bytes, quota?.bytes);
  yield deferred(
    `INSERT INTO memory_usage (tenant_id, records, bytes)
     VALUES (?, CASE WHEN ? > ? THEN NULL ELSE ? END, CASE WHEN ? > ? THEN NULL ELSE ? END)
     ON CONFLICT (tenant_id) DO UPDATE SET
       records = CASE WHEN memory_usage.records + excluded.records > ? THEN NULL
         ELSE memory_usage.records + excluded.records END,
       bytes = CASE WHEN memory_usage.bytes + excluded.bytes > ? THEN NULL
         ELSE memory_usage.bytes + excluded.bytes END`,
    tenantId,
    delta.records,
    records,
    delta.records,
    delta.bytes,
    bytes,
    delta.bytes,
    records,
    bytes,
  );
}

function* deleteIndex(at: RecordLocation): SqlPlan<void> {
  yield deferred(`DELETE FROM memory_tokens WHERE ${AT}`, at.tenantId, at.namespace, at.key);
  yield deferred(`DELETE FROM memory_tags WHERE ${AT}`, at.tenantId, at.namespace, at.key);
}

/**
 * Makes a record's index rows exactly `values`. On PostgreSQL only the rows no longer wanted are
 * deleted (rewriting a record with the same words changes no row); SQLite's planner would serve
 * that `NOT IN` delete from a scan of the namespace's rows, so there all of the record's rows are
 * deleted, by the record index, and inserted again.
 */
function* replaceIndex(
  table: 'memory_tokens' | 'memory_tags',
  column: 'token' | 'tag',
  at: RecordLocation,
  values: readonly string[],
  mode: { existed: boolean; keepUnchanged: boolean },
): SqlPlan<void> {
  const distinct = [...new Set(values)];
  if (mode.existed) {
    const keep =
      mode.keepUnchanged && distinct.length ? ` AND ${column} NOT IN (${placeholders(distinct.length)})` : '';
    yield deferred(
      `DELETE FROM ${table} WHERE ${AT}${keep}`,
      at.tenantId,
      at.namespace,
      at.key,
      ...(keep ? distinct : []),
    );
  }
  for (let i = 0; i < distinct.length; i += CHUNK) {
    const chunk = distinct.slice(i, i + CHUNK);
    yield deferred(
      `INSERT INTO ${table} (tenant_id, namespace, ${column}, "key") VALUES ${chunk.map(() => '(?, ?, ?, ?)').join(', ')}
       ON CONFLICT DO NOTHING`,
      ...chunk.flatMap((v) => [at.tenantId, at.namespace, v, at.key]),
    );
  }
}
