import { Injectable } from '@nestjs/common';
import { sql, SqlRunner } from '@app/database';

/** One row of `stored_responses`: the ciphertext is opaque here (see StoredResponses). */
export interface StoredResponseRow {
  tenantId: string;
  id: string;
  ciphertext: Buffer;
  createdAt: number;
  expiresAt: number;
}

/** Every query takes the tenant id: a response id alone never reaches another tenant's row. */
@Injectable()
export class StoredResponseRepository {
  constructor(private readonly db: SqlRunner) {}

  async insert(row: StoredResponseRow): Promise<void> {
    await this.db.run(
      sql(
        'INSERT INTO stored_responses (tenant_id, id, ciphertext, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
        row.tenantId,
        row.id,
        row.ciphertext,
        row.createdAt,
        row.expiresAt,
      ),
    );
  }

  /** The row unless it is absent or expired at `now` (expired rows wait for the sweeper). */
  async findLive(tenantId: string, id: string, now: number): Promise<Buffer | null> {
    const { rows } = await this.db.run(
      sql(
        'SELECT ciphertext FROM stored_responses WHERE tenant_id = ? AND id = ? AND expires_at > ?',
        tenantId,
        id,
        now,
      ),
    );
    return rows[0] ? Buffer.from(rows[0].ciphertext as Uint8Array) : null;
  }

  /** True when a live row was deleted. */
  async deleteLive(tenantId: string, id: string, now: number): Promise<boolean> {
    const { changes } = await this.db.run(
      sql(
        'DELETE FROM stored_responses WHERE tenant_id = ? AND id = ? AND expires_at > ?',
        tenantId,
        id,
        now,
      ),
    );
    return changes > 0;
  }

  /** Deletes up to `limit` rows expired at `now`; returns how many. */
  async deleteExpired(now: number, limit: number): Promise<number> {
    const { changes } = await this.db.run(
      sql(
        `DELETE FROM stored_responses WHERE (tenant_id, id) IN
           (SELECT tenant_id, id FROM stored_responses WHERE expires_at <= ? LIMIT ?)`,
        now,
        limit,
      ),
    );
    return changes;
  }
}
