/** A wrapped data key as persisted (the memory gateway owns the table). */
export interface StoredDataKey {
  tenantId: string;
  dataKeyId: string;
  /** {@link wrapDataKey}'s output. */
  wrapped: Buffer;
  /** Ring key id that wraps it (also inside `wrapped`; a column makes rotation queries cheap). */
  kekId: string;
}

/** Persistence of wrapped data keys, implemented by the app over its database. */
export interface DataKeyStore {
  /** The tenant's current data key, or null when it has none (new tenant, or erased). */
  findCurrent(tenantId: string): Promise<StoredDataKey | null>;
  findById(tenantId: string, dataKeyId: string): Promise<StoredDataKey | null>;
  /**
   * Stores the tenant's first data key unless another replica stored one first; returns the
   * one that won (so concurrent first writes agree on one key).
   */
  insertIfAbsent(record: StoredDataKey): Promise<StoredDataKey>;
  /** Deletes every data key of the tenant (crypto-shredding); returns how many. */
  destroyAll(tenantId: string): Promise<number>;
}

/** A {@link DataKeyStore} in memory, for tests and tools. */
export class InMemoryDataKeyStore implements DataKeyStore {
  private readonly keys = new Map<string, StoredDataKey[]>();

  async findCurrent(tenantId: string): Promise<StoredDataKey | null> {
    const list = this.keys.get(tenantId);
    return list?.[list.length - 1] ?? null;
  }

  async findById(tenantId: string, dataKeyId: string): Promise<StoredDataKey | null> {
    return this.keys.get(tenantId)?.find((k) => k.dataKeyId === dataKeyId) ?? null;
  }

  async insertIfAbsent(record: StoredDataKey): Promise<StoredDataKey> {
    const existing = await this.findCurrent(record.tenantId);
    if (existing) return existing;
    this.keys.set(record.tenantId, [{ ...record, wrapped: Buffer.from(record.wrapped) }]);
    return record;
  }

  async destroyAll(tenantId: string): Promise<number> {
    const n = this.keys.get(tenantId)?.length ?? 0;
    this.keys.delete(tenantId);
    return n;
  }

  /** Every stored key (for rotation tests). */
  all(): StoredDataKey[] {
    return [...this.keys.values()].flat();
  }

  /** Replaces a stored wrapped key (what a rotation job does). */
  replace(record: StoredDataKey): void {
    const list = this.keys.get(record.tenantId) ?? [];
    this.keys.set(
      record.tenantId,
      list.map((k) => (k.dataKeyId === record.dataKeyId ? record : k)),
    );
  }
}
