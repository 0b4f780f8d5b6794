import { sql, type SqlStatement, SqlTable } from '@app/database';
import { INDEX_FORMAT } from './memory.codec';
import type { RecordLocation, RecordSummary, StoredRecord } from './memory.types';

/** Row mapping, tables and SQL fragments shared by the memory repositories. */
export type Row = Record<string, unknown>;

export const num = (v: unknown): number => Number(v);
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
export const buf = (v: unknown): Buffer => Buffer.from(v as Uint8Array);

/** `memory_records`: one row per record, ciphertexts and identifiers only (times in epoch ms). */
export const MEMORY_RECORDS = new SqlTable<StoredRecord>('memory_records', {
  tenant_id: (r) => r.tenantId,
  namespace: (r) => r.namespace,
  key: (r) => r.key,
  version: (r) => r.version,
  size_bytes: (r) => r.sizeBytes,
  created_at: (r) => r.createdAt,
  updated_at: (r) => r.updatedAt,
  expires_at: (r) => r.expiresAt,
  value_ciphertext: (r) => r.valueCiphertext,
  attrs_ciphertext: (r) => r.attrsCiphertext,
  // The index format the record's words and tags were written in (reindex rebuilds older ones).
  index_version: () => INDEX_FORMAT,
});

/** One row of a record's search index: a blind-index token or a hashed tag. */
export interface IndexRow extends RecordLocation {
  value: string;
}

/** `memory_tokens` / `memory_tags`: (tenant, namespace, token or tag, key), one row each. */
const indexTable = (name: 'memory_tokens' | 'memory_tags', column: 'token' | 'tag') =>
  new SqlTable<IndexRow>(name, {
    tenant_id: (r) => r.tenantId,
    namespace: (r) => r.namespace,
    [column]: (r) => r.value,
    key: (r) => r.key,
  });
export const MEMORY_TOKENS = indexTable('memory_tokens', 'token');
export const MEMORY_TAGS = indexTable('memory_tags', 'tag');

export const RECORD_COLUMNS = MEMORY_RECORDS.list();
/** A record without its ciphertexts or tenant: what a listing returns. */
export const SUMMARY_COLUMNS = MEMORY_RECORDS.list([
  'tenant_id',
  'value_ciphertext',
  'attrs_ciphertext',
  'index_version',
]);
export const AT = 'tenant_id = ? AND namespace = ? AND "key" = ?';

/**
 * The rows of these keys of one namespace, one primary-key look-up each, in one statement. Not
 * `"key" IN (…)`: without statistics PostgreSQL plans an IN list on the key's (third) column as a
 * scan of the whole namespace, filtered. At most a few hundred keys (SQLite's compound limit is 500).
 */
export function recordsByKeys(tenantId: string, namespace: string, keys: readonly string[]): SqlStatement {
  return sql(
    keys.map(() => `SELECT ${RECORD_COLUMNS} FROM memory_records WHERE ${AT}`).join('\nUNION ALL\n'),
    ...keys.flatMap((key) => [tenantId, namespace, key]),
  );
}

export function toSummary(row: Row): RecordSummary {
  return {
    namespace: String(row.namespace),
    key: String(row.key),
    version: num(row.version),
    sizeBytes: num(row.size_bytes),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
    expiresAt: numOrNull(row.expires_at),
  };
}

export function toRecord(row: Row): StoredRecord {
  return {
    ...toSummary(row),
    tenantId: String(row.tenant_id),
    valueCiphertext: buf(row.value_ciphertext),
    attrsCiphertext: row.attrs_ciphertext === null ? null : buf(row.attrs_ciphertext),
  };
}
