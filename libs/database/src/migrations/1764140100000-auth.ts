import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';
import { columnTypes } from '../dialect';

/**
 * Authentication: tenant limits and API keys (stored as SHA-256 hashes, never the key).
 * `tenants.limits` is added with a plain ALTER TABLE: both engines do it in place, whereas
 * TypeORM's addColumn rebuilds the table on SQLite.
 */
export class Auth1764140100000 implements MigrationInterface {
  name = 'Auth1764140100000';

  async up(qr: QueryRunner): Promise<void> {
    const t = columnTypes(qr);
    const id = { type: t.uuid, length: t.pg ? undefined : '36' };
    await qr.query(`ALTER TABLE "tenants" ADD COLUMN "limits" ${t.json} NULL`);
    await qr.createTable(
      new Table({
        name: 'api_keys',
        columns: [
          { name: 'id', ...id, isPrimary: true },
          { name: 'tenant_id', ...id },
          { name: 'name', type: 'varchar', length: '200' },
          { name: 'prefix', type: 'varchar', length: '16' },
          { name: 'key_hash', type: 'varchar', length: '64' },
          { name: 'scopes', type: t.json },
          { name: 'limits', type: t.json, isNullable: true },
          { name: 'created_by', type: 'varchar', length: '255', isNullable: true },
          { name: 'created_at', type: t.timestamp, default: t.now },
          { name: 'expires_at', type: t.timestamp, isNullable: true },
          { name: 'revoked_at', type: t.timestamp, isNullable: true },
          { name: 'last_used_at', type: t.timestamp, isNullable: true },
        ],
        uniques: [{ name: 'UQ_api_keys_key_hash', columnNames: ['key_hash'] }],
        indices: [{ name: 'IDX_api_keys_tenant_created', columnNames: ['tenant_id', 'created_at'] }],
        foreignKeys: [
          {
            name: 'FK_api_keys_tenant',
            columnNames: ['tenant_id'],
            referencedTableName: 'tenants',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable('api_keys');
    await qr.query(`ALTER TABLE "tenants" DROP COLUMN "limits"`);
  }
}
