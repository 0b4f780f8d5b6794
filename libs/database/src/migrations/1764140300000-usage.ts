import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { columnTypes } from '../dialect';

/** Router usage rows: one per request, aggregated by GET /v1/usage and rebuilt into budgets. */
export class Usage1764140300000 implements MigrationInterface {
  name = 'Usage1764140300000';

  async up(qr: QueryRunner): Promise<void> {
    const t = columnTypes(qr);
    await qr.createTable(
      new Table({
        name: 'usage_records',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'tenant_id', type: 'varchar', length: '36' },
          { name: 'api_key_id', type: 'varchar', length: '64', isNullable: true },
          { name: 'subject', type: 'varchar', length: '200' },
          { name: 'endpoint', type: 'varchar', length: '16' },
          { name: 'route', type: 'varchar', length: '200' },
          { name: 'provider', type: 'varchar', length: '64' },
          { name: 'model', type: 'varchar', length: '200' },
          { name: 'prompt_tokens', type: 'integer' },
          { name: 'completion_tokens', type: 'integer' },
          { name: 'total_tokens', type: 'integer' },
          { name: 'cost_usd', type: t.double },
          { name: 'latency_ms', type: 'integer' },
          { name: 'ttft_ms', type: 'integer', isNullable: true },
          { name: 'status', type: 'integer' },
          { name: 'outcome', type: 'varchar', length: '16' },
          { name: 'cached', type: 'boolean', default: false },
          { name: 'estimated', type: 'boolean', default: false },
          { name: 'stream', type: 'boolean', default: false },
          { name: 'attempts', type: 'integer', default: 1 },
          { name: 'request_id', type: 'varchar', length: '128', isNullable: true },
          { name: 'created_at', type: t.timestamp },
        ],
      }),
    );
    await qr.createIndex(
      'usage_records',
      new TableIndex({ name: 'idx_usage_tenant_time', columnNames: ['tenant_id', 'created_at'] }),
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable('usage_records');
  }
}
