import type { MigrationInterface, QueryRunner } from 'typeorm';
import { columnTypes } from '../dialect';

/** The SQLSTATE {@link MemoryQuota1796633756285}'s function raises for a write over a quota. */
export const MEMORY_QUOTA_SQLSTATE = 'QM001';

/**
 * PostgreSQL: `atp_memory_usage_add(tenant, records, bytes, max_records, max_bytes)` adds a
 * write's usage to the tenant's counters and raises {@link MEMORY_QUOTA_SQLSTATE} when a count
 * that grew is now over its quota (the raise rolls the write back). Checked in the database so
 * the memory gateway can send it together with the COMMIT: the usage row is the one lock all of
 * a tenant's writes share, and a check whose answer came back to the gateway before the COMMIT
 * held that lock across an event-loop turn (measured: a third of the PUT rate on one tenant).
 * SQLite needs nothing: a plan runs there alone, so the gateway checks the totals itself.
 */
export class MemoryQuota1796633756285 implements MigrationInterface {
  name = 'MemoryQuota1796633756285';

  async up(qr: QueryRunner): Promise<void> {
    if (!columnTypes(qr).pg) return;
    await qr.query(`
      CREATE OR REPLACE FUNCTION atp_memory_usage_add(
        p_tenant varchar, p_records bigint, p_bytes bigint, p_max_records bigint, p_max_bytes bigint
      ) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        v_records bigint;
        v_bytes bigint;
      BEGIN
        INSERT INTO memory_usage AS u (tenant_id, records, bytes) VALUES (p_tenant, p_records, p_bytes)
        ON CONFLICT (tenant_id) DO UPDATE SET records = u.records + excluded.records, bytes = u.bytes + excluded.bytes
        RETURNING records, bytes INTO v_records, v_bytes;
        IF (p_records > 0 AND v_records > p_max_records) OR (p_bytes > 0 AND v_bytes > p_max_bytes) THEN
          RAISE EXCEPTION 'memory quota exceeded' USING ERRCODE = '${MEMORY_QUOTA_SQLSTATE}';
        END IF;
      END $$`);
  }

  async down(qr: QueryRunner): Promise<void> {
    if (columnTypes(qr).pg) await qr.query('DROP FUNCTION IF EXISTS atp_memory_usage_add');
  }
}
