import 'reflect-metadata';
import { ConfigError, loadConfig, loadDotEnv, readProcessEnv } from '@app/config';
import { dataSourceOptions, runMigrations } from '@app/database';
import { DataSource } from 'typeorm';

const USAGE = `Usage: npm run atp -- <command>

Commands:
  migrate        apply pending database migrations (DATABASE_URL, or the embedded SQLite database)
  help           this text
`;

async function migrate(): Promise<void> {
  const config = loadConfig('cli', readProcessEnv());
  const ds = await new DataSource(dataSourceOptions(config.database)).initialize();
  try {
    const applied = await runMigrations(ds);
    const where = config.database.type === 'postgres' ? 'PostgreSQL' : config.database.path;
    process.stdout.write(
      applied.length ? `applied ${applied.length} migration(s) to ${where}: ${applied.join(', ')}\n` : `${where} is up to date\n`,
    );
  } finally {
    await ds.destroy();
  }
}

async function main(argv: string[]): Promise<number> {
  loadDotEnv();
  const [command] = argv;
  switch (command) {
    case 'migrate':
      await migrate();
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`unknown command: ${command}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
    process.exit(1);
  },
);
