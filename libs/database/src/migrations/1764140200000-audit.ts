import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { columnTypes } from '../dialect';

/**
 * The audit log: append-only events, one hash chain per tenant, and each chain's head (its row
 * lock serialises writers across replicas). No foreign key to tenants: erasing a tenant's data
 * keeps its audit chain verifiable.
 */
export class Audit1764140200000 implements MigrationInterface {
  name = 'Audit1764140200000';

  async up(qr: QueryRunner): Promise<void> {
    const t = columnTypes(qr);
    const str = (name: string, length: number, isNullable = false) => ({
      name,
      type: 'varchar',
      length: String(length),
      isNullable,
    });
    await qr.createTable(
      new Table({
        name: 'audit_events',
        columns: [
          { name: 'event_id', type: t.uuid, length: t.pg ? undefined : '36', isPrimary: true },
          str('tenant_id', 64),
          { name: 'seq', type: t.bigint },
          { name: 'occurred_at', type: t.timestamp },
          str('actor_type', 16),
          str('actor_id', 256, true),
          str('credential_id', 64, true),
          str('action', 32),
          str('resource_type', 32, true),
          str('resource_id', 512, true),
          str('outcome', 16),
          { name: 'status_code', type: 'integer', isNullable: true },
          str('request_id', 128, true),
          str('source_ip', 64, true),
          { name: 'pii_summary', type: t.json, isNullable: true },
          str('hash_key_id', 40),
          str('prev_hash', 64),
          str('hash', 64),
        ],
        indices: [
          // The backstop against two writers taking the same place in a chain.
          new TableIndex({
            name: 'uq_audit_events_tenant_seq',
            columnNames: ['tenant_id', 'seq'],
            isUnique: true,
          }),
          new TableIndex({ name: 'ix_audit_events_tenant_time', columnNames: ['tenant_id', 'occurred_at'] }),
        ],
      }),
    );
    await qr.createTable(
      new Table({
        name: 'audit_chain_heads',
        columns: [
          { name: 'tenant_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'seq', type: t.bigint },
          str('hash', 64),
        ],
      }),
    );

    if (t.pg) {
      await qr.query(`
        CREATE OR REPLACE FUNCTION atp_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION '% on % is not allowed: the audit log is append-only', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
        END
        $$`);
      await qr.query(`CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION atp_audit_append_only()`);
      await qr.query(`CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION atp_audit_append_only()`);
      // A deleted head would restart the chain at seq 1; heads only ever move forward.
      await qr.query(`CREATE TRIGGER audit_chain_heads_no_delete BEFORE DELETE OR TRUNCATE ON audit_chain_heads
        FOR EACH STATEMENT EXECUTE FUNCTION atp_audit_append_only()`);
    } else {
      // Same guard on the embedded database (SQLite triggers cannot be bypassed by a superuser role).
      for (const op of ['UPDATE', 'DELETE']) {
        await qr.query(`CREATE TRIGGER audit_events_no_${op.toLowerCase()} BEFORE ${op} ON audit_events
          BEGIN SELECT RAISE(ABORT, '${op} on audit_events is not allowed: the audit log is append-only'); END`);
      }
      await qr.query(`CREATE TRIGGER audit_chain_heads_no_delete BEFORE DELETE ON audit_chain_heads
        BEGIN SELECT RAISE(ABORT, 'DELETE on audit_chain_heads is not allowed'); END`);
    }
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable('audit_chain_heads');
    await qr.dropTable('audit_events');
    if (columnTypes(qr).pg) await qr.query('DROP FUNCTION IF EXISTS atp_audit_append_only()');
  }
}
