import { userInfo } from 'node:os';
import { DataSource } from 'typeorm';
import {
  type Caller,
  ApiKeyEntity,
  ApiKeyRepository,
  ApiKeyService,
  AUTH_ENTITIES,
  AuthClock,
  AuthEvents,
  RevocationBus,
  operatorCaller,
  TenantEntity,
  TenantRepository,
  TenantService,
} from '@app/auth';
import { AUDIT_ENTITIES } from '@app/audit';
import { createKvStore, type KvStore } from '@app/cache';
import type { AppConfig } from '@app/config';
import { dataSourceOptions, runMigrations } from '@app/database';

/** What a command may use: the database, the auth use cases, and where to print. */
export interface CliContext {
  config: AppConfig<'cli'>;
  /** The open database, for commands that work below the services (KEK rotation). */
  dataSource: DataSource;
  tenants: TenantService;
  keys: ApiKeyService;
  /** The operator at the terminal: platform-wide, every scope. */
  actor: Caller;
  out(line: string): void;
  err(line: string): void;
}

export interface CliIo {
  env: Record<string, string | undefined>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

function operator(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

/**
 * Opens the database (applying pending migrations first, except in production where the deploy's
 * migration job does that), builds the use cases without Nest, runs `fn`, and closes everything.
 */
export async function withCliContext<T>(
  config: AppConfig<'cli'>,
  io: CliIo,
  fn: (ctx: CliContext) => Promise<T>,
): Promise<T> {
  const ds = await new DataSource(
    dataSourceOptions(config.database, [...AUTH_ENTITIES, ...AUDIT_ENTITIES]),
  ).initialize();
  let kv: KvStore | null = null;
  try {
    if (!config.production) await runMigrations(ds);
    const clock = new AuthClock();
    const events = new AuthEvents();
    const tenantRepo = new TenantRepository(ds.getRepository(TenantEntity));
    // Revocations are announced to running services over Redis when configured (in-process
    // caches elsewhere expire within seconds); connect only if a command needs it.
    const bus = new RevocationBus({
      // A fresh store's first command waits for its connection (2 s at most).
      publish: (channel, message) => (kv ??= createKvStore(config)).publish(channel, message),
      subscribe: () => Promise.reject(new Error('the CLI does not listen for revocations')),
    });
    return await fn({
      config,
      dataSource: ds,
      tenants: new TenantService(tenantRepo, events, clock),
      keys: new ApiKeyService(
        new ApiKeyRepository(ds.getRepository(ApiKeyEntity)),
        tenantRepo,
        bus,
        events,
        clock,
      ),
      actor: operatorCaller(operator()),
      out: (line) => io.stdout(line + '\n'),
      err: (line) => io.stderr(line + '\n'),
    });
  } finally {
    await (kv as KvStore | null)?.close();
    await ds.destroy();
  }
}
