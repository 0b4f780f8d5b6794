import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';
import { columnTypes } from '../dialect';

/** Tenants: every other table hangs off a tenant id. */
export class Baseline1764140000000 implements MigrationInterface {
  name = 'Baseline1764140000000';

  async up(qr: QueryRunner): Promise<void> {
    const t = columnTypes(qr);
    await qr.createTable(
      new Table({
        name: 'tenants',
        columns: [
          { name: 'id', type: t.uuid, length: t.pg ? undefined : '36', isPrimary: true },
          { name: 'name', type: 'varchar', length: '200', isUnique: true },
          { name: 'created_at', type: t.timestamp, default: t.now },
        ],
      }),
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable('tenants');
  }
}
