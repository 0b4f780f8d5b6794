import { AtpError } from '@app/common';
import { ConfigError, loadConfig } from '@app/config';
import { type CliIo, withCliContext } from './cli-context';
import { keysCommand } from './commands/keys.command';
import { memoryCommand } from './commands/memory.command';
import { migrateCommand } from './commands/migrate.command';
import { tenantsCommand } from './commands/tenants.command';
import { tokenCommand } from './commands/token.command';
import { UsageError } from './usage-error';

export const USAGE = `Usage: npm run atp -- <command>

Commands:
  migrate                                   apply pending database migrations (DATABASE_URL, or the embedded SQLite database)
  tenants create <name>                     create a tenant; prints {"id", "name", "created_at"}
  keys create --tenant <id> --scopes <list> [--name <name>] [--expires-at <ISO 8601>]
                                            create an API key; prints it once (JSON, field "key")
  keys list --tenant <id>                   list a tenant's active keys (never the keys themselves)
  keys revoke <key id>                      revoke a key (running services stop accepting it within seconds)
  keys rotate-kek                           re-wrap every tenant data key under the first ENCRYPTION_KEY of the ring
  token --tenant <id> --scopes <list> [--ttl 1h] [--sub <subject>]
                                            print a platform JWT (HS256, signed with JWT_SECRET_KEY)
  memory reindex (--tenant <id> | --all)    rebuild the search index of memory records written in an older
                                            index format (ENCRYPTION_KEY); safe to interrupt and run again
  help                                      this text

Scopes: llm, memory:read, memory:write, audit:read, admin, platform:admin (comma-separated).
The database is DATABASE_URL, or the embedded SQLite database under ATP_DATA_DIR (default .atp/).
Outside production, pending migrations are applied first.
`;

/** Runs one CLI invocation; returns the exit code (0 ok, 1 failed, 2 bad usage). Never exits the process. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...args] = argv;
  try {
    if (command === undefined || ['help', '--help', '-h'].includes(command)) {
      io.stdout(USAGE);
      return 0;
    }
    if (!['migrate', 'tenants', 'keys', 'token', 'memory'].includes(command))
      throw new UsageError(`unknown command: ${command}`);
    const config = loadConfig('cli', io.env);
    if (command === 'migrate') {
      await migrateCommand(config, (line) => io.stdout(line + '\n'));
      return 0;
    }
    await withCliContext(config, io, (ctx) => {
      if (command === 'tenants') return tenantsCommand(ctx, args);
      if (command === 'keys') return keysCommand(ctx, args);
      if (command === 'memory') return memoryCommand(ctx, args);
      return tokenCommand(ctx, args);
    });
    return 0;
  } catch (err) {
    if (
      err instanceof UsageError ||
      (err as { code?: unknown }).code?.toString().startsWith('ERR_PARSE_ARGS')
    ) {
      io.stderr(`${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof AtpError || err instanceof ConfigError) {
      io.stderr(`${err.message}\n`);
      return 1;
    }
    io.stderr(`failed: ${(err as Error).message}\n`);
    return 1;
  }
}
