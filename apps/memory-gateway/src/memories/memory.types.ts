/** A record as stored: ciphertexts and identifiers only. Times are epoch milliseconds. */
export interface StoredRecord {
  tenantId: string;
  namespace: string;
  key: string;
  version: number;
  valueCiphertext: Buffer;
  attrsCiphertext: Buffer | null;
  sizeBytes: number;
  createdAt: number;
  updatedAt: number;
  expiresAt: number | null;
}

/** A list item: no ciphertext. */
export type RecordSummary = Omit<StoredRecord, 'valueCiphertext' | 'attrsCiphertext' | 'tenantId'>;

export interface RecordLocation {
  tenantId: string;
  namespace: string;
  key: string;
}

export function isLive(record: { expiresAt: number | null }, now: number): boolean {
  return record.expiresAt === null || record.expiresAt > now;
}
