import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';
import { columnTypes } from '../dialect';

/**
 * The router's stored responses (`POST /v1/responses` with `store`), for `previous_response_id`
 * and `GET`/`DELETE /v1/responses/{id}`. The response and the conversation it continues are one
 * ciphertext under the tenant's data key (the memory gateway's `memory_data_keys`), so nothing of
 * a prompt or an answer is readable in the database, and a tenant erasure (which destroys the data
 * key and deletes these rows) shreds them with the tenant's memory. Times are epoch milliseconds,
 * as in the memory tables; expired rows are swept by the router.
 */
export class StoredResponses1764140600000 implements MigrationInterface {
  name = 'StoredResponses1764140600000';

  async up(qr: QueryRunner): Promise<void> {
    const t = columnTypes(qr);
    await qr.createTable(
      new Table({
        name: 'stored_responses',
        columns: [
          { name: 'tenant_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'ciphertext', type: t.bytes },
          { name: 'created_at', type: t.bigint },
          { name: 'expires_at', type: t.bigint },
        ],
        indices: [{ name: 'ix_stored_responses_expires', columnNames: ['expires_at'] }],
      }),
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable('stored_responses');
  }
}
