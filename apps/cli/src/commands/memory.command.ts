import { parseArgs } from 'node:util';
import { AuditRepository, AuditService, auditOptionsFromConfig } from '@app/audit';
import { isUuid } from '@app/auth';
// The CLI bundles the gateway's reindex use case: it runs against the same database, no server needed.
import { memoryReindexer } from '../../../memory-gateway/src/memories/memory-reindex';
import type { CliContext } from '../cli-context';
import { UsageError } from '../usage-error';

/**
 * `memory reindex --tenant <id> | --all`: rebuilds the search index of records written in an
 * older index format from their stored values; safe to interrupt and run again.
 */
async function reindex(ctx: CliContext, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { tenant: { type: 'string' }, all: { type: 'boolean' } },
  });
  if (Boolean(values.tenant) === Boolean(values.all)) {
    throw new UsageError('memory reindex needs --tenant <id> or --all (one of them)');
  }
  if (values.tenant && !isUuid(values.tenant)) {
    throw new UsageError(`--tenant must be a tenant id (a UUID), got "${values.tenant}"`);
  }
  if (!ctx.config.encryptionKeys.length) throw new UsageError('ENCRYPTION_KEY is required to reindex memory');
  const audit = new AuditService(new AuditRepository(ctx.dataSource), auditOptionsFromConfig(ctx.config));
  try {
    const reindexer = memoryReindexer(ctx.dataSource, ctx.config.encryptionKeys, audit);
    const result = values.tenant
      ? await reindexer.reindexTenant(values.tenant, ctx.actor)
      : await reindexer.reindexAll(ctx.actor, (tenantId, r) =>
          ctx.err(`tenant ${tenantId}: ${r.reindexed} of ${r.records} records reindexed`),
        );
    ctx.out(JSON.stringify(result));
    if (result.failed) {
      throw new Error(`${result.failed} record(s) could not be decrypted and keep their old index`);
    }
  } finally {
    // The tenants' audit events are written before the command returns.
    await audit.close();
  }
}

/** `memory reindex`. */
export async function memoryCommand(ctx: CliContext, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'reindex') return reindex(ctx, rest);
  throw new UsageError(`unknown memory command: ${sub ?? '(none)'} (try: memory reindex)`);
}
