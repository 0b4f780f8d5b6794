import type { DataSource } from 'typeorm';

/** Arbitrary constant: the advisory lock that serialises migration runs across processes. */
const MIGRATION_LOCK_ID = 724_110_001;

/**
 * Applies pending migrations. On PostgreSQL an advisory lock makes concurrent runners (two
 * replicas, a job and a dev start) wait for each other instead of racing; on SQLite the
 * database's own write lock and a re-check do the same.
 * @returns names of the migrations that this call applied
 */
export async function runMigrations(ds: DataSource): Promise<string[]> {
  if (ds.options.type === 'postgres') {
    const qr = ds.createQueryRunner();
    await qr.connect();
    try {
      await qr.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
      const applied = await ds.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      await qr.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => undefined);
      await qr.release();
    }
  }
  for (let attempt = 1; ; attempt++) {
    try {
      const applied = await ds.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } catch (err) {
      // Another process applied the same migration a moment earlier: re-check once it is done.
      if (attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}
