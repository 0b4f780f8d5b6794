import type { RecordSummary, StoredRecord } from './memory.types';

/** Row mapping and SQL fragments shared by the memory repositories. */
export type Row = Record<string, unknown>;

export const num = (v: unknown): number => Number(v);
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
export const buf = (v: unknown): Buffer => Buffer.from(v as Uint8Array);
export const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');
export const CHUNK = 200;

export const SUMMARY_COLUMNS = 'namespace, "key", version, size_bytes, created_at, updated_at, expires_at';
export const RECORD_COLUMNS = `tenant_id, ${SUMMARY_COLUMNS}, value_ciphertext, attrs_ciphertext`;
export const AT = 'tenant_id = ? AND namespace = ? AND "key" = ?';

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
