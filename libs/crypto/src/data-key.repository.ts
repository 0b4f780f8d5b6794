import { Injectable } from '@nestjs/common';
import { sql, type SqlPlan, SqlRunner } from '@app/database';
import { DataKeyDestroyedError } from './crypto.errors';
import type { DataKeyStore, StoredDataKey } from './data-key-store';

type Row = Record<string, unknown>;

function toStored(row: Row): StoredDataKey {
  return {
    tenantId: String(row.tenant_id),
    dataKeyId: String(row.data_key_id),
    wrapped: Buffer.from(row.wrapped as Uint8Array),
    kekId: String(row.kek_id),
  };
}

const COLUMNS = 'tenant_id, data_key_id, wrapped, kek_id';

/**
 * The tenants' wrapped data keys (table `memory_data_keys`), for {@link TenantCrypto}. Every
 * query takes the tenant id; `listPage` and `replaceWrapped` serve KEK rotation.
 */
@Injectable()
export class DataKeyRepository implements DataKeyStore {
  constructor(private readonly db: SqlRunner) {}

  async findCurrent(tenantId: string): Promise<StoredDataKey | null> {
    const { rows } = await this.db.run(
      sql(
        `SELECT ${COLUMNS} FROM memory_data_keys WHERE tenant_id = ? ORDER BY created_at DESC LIMIT 1`,
        tenantId,
      ),
    );
    return rows[0] ? toStored(rows[0]) : null;
  }

  async findById(tenantId: string, dataKeyId: string): Promise<StoredDataKey | null> {
    const { rows } = await this.db.run(
      sql(
        `SELECT ${COLUMNS} FROM memory_data_keys WHERE tenant_id = ? AND data_key_id = ?`,
        tenantId,
        dataKeyId,
      ),
    );
    return rows[0] ? toStored(rows[0]) : null;
  }

  async insertIfAbsent(record: StoredDataKey): Promise<StoredDataKey> {
    await this.db.run(
      sql(
        `INSERT INTO memory_data_keys (${COLUMNS}, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id) DO NOTHING`,
        record.tenantId,
        record.dataKeyId,
        record.wrapped,
        record.kekId,
        Date.now(),
      ),
    );
    const winner = await this.findCurrent(record.tenantId);
    if (!winner) throw new Error('data key vanished right after it was stored (concurrent erasure)');
    return winner;
  }

  /**
   * A step of a write's transaction that stores data sealed under `dataKeyId`: the key must still
   * exist, and it stays until the transaction ends (an erasure's {@link destroyAll} waits for it,
   * then deletes the rows the write added). Without it, a write sealed just before an erasure
   * could commit after it: a row under a destroyed key, unreadable for good.
   * @throws DataKeyDestroyedError when the key is gone (seal again under the tenant's new key).
   */
  *hold(tenantId: string, dataKeyId: string): SqlPlan<void> {
    const { rows } = yield sql(
      `SELECT 1 AS held FROM memory_data_keys WHERE tenant_id = ? AND data_key_id = ?${this.db.forKeyShare}`,
      tenantId,
      dataKeyId,
    );
    if (!rows.length) throw new DataKeyDestroyedError();
  }

  async destroyAll(tenantId: string): Promise<number> {
    return (await this.db.run(sql('DELETE FROM memory_data_keys WHERE tenant_id = ?', tenantId))).changes;
  }

  /** Keys in (tenant_id, data_key_id) order after the given position, for rotation jobs. */
  async listPage(
    after: { tenantId: string; dataKeyId: string } | null,
    limit: number,
  ): Promise<StoredDataKey[]> {
    const { rows } = after
      ? await this.db.run(
          sql(
            `SELECT ${COLUMNS} FROM memory_data_keys WHERE tenant_id > ? OR (tenant_id = ? AND data_key_id > ?)
             ORDER BY tenant_id, data_key_id LIMIT ?`,
            after.tenantId,
            after.tenantId,
            after.dataKeyId,
            limit,
          ),
        )
      : await this.db.run(
          sql(`SELECT ${COLUMNS} FROM memory_data_keys ORDER BY tenant_id, data_key_id LIMIT ?`, limit),
        );
    return rows.map(toStored);
  }

  /** Stores a re-wrapped key, only if nobody changed it meanwhile; true when it was replaced. */
  async replaceWrapped(previous: StoredDataKey, next: { wrapped: Buffer; kekId: string }): Promise<boolean> {
    const { changes } = await this.db.run(
      sql(
        'UPDATE memory_data_keys SET wrapped = ?, kek_id = ? WHERE tenant_id = ? AND data_key_id = ? AND kek_id = ?',
        next.wrapped,
        next.kekId,
        previous.tenantId,
        previous.dataKeyId,
        previous.kekId,
      ),
    );
    return changes > 0;
  }
}
