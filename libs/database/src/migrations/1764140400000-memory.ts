import { type MigrationInterface, type QueryRunner, Table, type TableColumnOptions } from 'typeorm';
import { columnTypes } from '../dialect';

/**
 * The memory gateway: encrypted records, their blind search index and hashed tags, per-tenant
 * usage counters (quotas), per-namespace PII settings, and the tenants' wrapped data keys.
 * Times are epoch milliseconds (bigint): the same comparisons and no time-zone conversions on
 * both engines. Names compare byte-wise (`COLLATE "C"` on PostgreSQL, SQLite's default BINARY),
 * so keyset pagination orders alike everywhere. No foreign key to tenants: erasure deletes rows
 * here and destroys the data key, and leaves the tenant and its audit chain in place.
 */
export class Memory1764140400000 implements MigrationInterface {
  name = 'Memory1764140400000';

  async up(qr: QueryRunner): Promise<void> {
    const t = columnTypes(qr);
    const str = (
      name: string,
      length: number,
      extra: Partial<TableColumnOptions> = {},
    ): TableColumnOptions => ({
      name,
      type: 'varchar',
      length: String(length),
      ...extra,
    });
    const name = (col: string): TableColumnOptions => str(col, 128, t.pg ? { collation: 'C' } : {});
    const int = (col: string, isNullable = false): TableColumnOptions => ({
      name: col,
      type: t.bigint,
      isNullable,
    });
    const located = [str('tenant_id', 64), name('namespace'), name('key')];

    await qr.createTable(
      new Table({
        name: 'memory_data_keys',
        columns: [
          str('tenant_id', 64, { isPrimary: true }),
          str('data_key_id', 64, { isPrimary: true }),
          { name: 'wrapped', type: t.bytes },
          str('kek_id', 64),
          int('created_at'),
        ],
        // One data key per tenant at a time: concurrent first writes agree on the winner.
        indices: [{ name: 'uq_memory_data_keys_tenant', columnNames: ['tenant_id'], isUnique: true }],
      }),
    );
    await qr.createTable(
      new Table({
        name: 'memory_records',
        columns: [
          ...located.map((c) => ({ ...c, isPrimary: true })),
          int('version'),
          { name: 'value_ciphertext', type: t.bytes },
          { name: 'attrs_ciphertext', type: t.bytes, isNullable: true },
          int('size_bytes'),
          int('created_at'),
          int('updated_at'),
          int('expires_at', true),
        ],
        indices: [{ name: 'ix_memory_records_expires', columnNames: ['expires_at'] }],
      }),
    );
    for (const [table, column] of [
      ['memory_tokens', 'token'],
      ['memory_tags', 'tag'],
    ] as const) {
      await qr.createTable(
        new Table({
          name: table,
          columns: [
            str('tenant_id', 64, { isPrimary: true }),
            name('namespace'),
            str(column, 64, { isPrimary: true }),
            name('key'),
          ].map((c) => ({ ...c, isPrimary: true })),
          // A record's rows (for its deletes), by exact look-up only. Key first, so this index
          // never offers the planner a scan of a whole tenant's rows in key order: without
          // statistics (a fresh table) PostgreSQL would take that over the primary key's
          // (tenant, namespace, token) look-ups that search needs.
          indices: [{ name: `ix_${table}_record`, columnNames: ['key', 'tenant_id', 'namespace'] }],
        }),
      );
    }
    await qr.createTable(
      new Table({
        name: 'memory_usage',
        columns: [str('tenant_id', 64, { isPrimary: true }), int('records'), int('bytes')],
      }),
    );
    await qr.createTable(
      new Table({
        name: 'memory_namespaces',
        columns: [
          str('tenant_id', 64, { isPrimary: true }),
          { ...name('namespace'), isPrimary: true },
          str('pii_mode', 16),
          int('updated_at'),
        ],
      }),
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    for (const table of [
      'memory_namespaces',
      'memory_usage',
      'memory_tags',
      'memory_tokens',
      'memory_records',
      'memory_data_keys',
    ]) {
      await qr.dropTable(table);
    }
  }
}
