import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which format of the search index each memory record's words and tags were written in. Rows
 * that exist when this runs get 0, "not known to be current": they may have been indexed before
 * redaction placeholders were left out (`<EMAIL>` indexed as the word "email"). Every write
 * stores the gateway's current format, and `npm run atp -- memory reindex` rebuilds the rows of
 * older ones from the stored values (resuming where an interrupted run stopped, since it only
 * picks rows still behind). A plain ADD COLUMN with a constant default: no table rewrite on
 * PostgreSQL 11+, and the same statement on SQLite.
 */
export class MemoryIndexVersion1764140650000 implements MigrationInterface {
  name = 'MemoryIndexVersion1764140650000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.query('ALTER TABLE memory_records ADD COLUMN index_version integer NOT NULL DEFAULT 0');
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.query('ALTER TABLE memory_records DROP COLUMN index_version');
  }
}
