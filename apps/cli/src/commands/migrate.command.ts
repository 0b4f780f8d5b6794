import { DataSource } from 'typeorm';
import type { AppConfig } from '@app/config';
import { dataSourceOptions, runMigrations } from '@app/database';

/** `migrate`: apply pending migrations (DATABASE_URL, or the embedded SQLite database). */
export async function migrateCommand(config: AppConfig<'cli'>, out: (line: string) => void): Promise<void> {
  const ds = await new DataSource(dataSourceOptions(config.database)).initialize();
  try {
    const applied = await runMigrations(ds);
    const where = config.database.type === 'postgres' ? 'PostgreSQL' : config.database.path;
    out(
      applied.length
        ? `applied ${applied.length} migration(s) to ${where}: ${applied.join(', ')}`
        : `${where} is up to date`,
    );
  } finally {
    await ds.destroy();
  }
}
