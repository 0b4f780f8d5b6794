import { parseArgs } from 'node:util';
import type { CliContext } from '../cli-context';
import { UsageError } from '../usage-error';

/** `tenants create <name>`: prints `{id, name, created_at}` as JSON. */
export async function tenantsCommand(ctx: CliContext, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'create')
    throw new UsageError(`unknown tenants command: ${sub ?? '(none)'} (try: tenants create <name>)`);
  const { positionals } = parseArgs({ args: rest, allowPositionals: true, strict: true, options: {} });
  const name = positionals.join(' ').trim();
  if (!name) throw new UsageError('tenants create needs a name');
  if (name.length > 200) throw new UsageError('the tenant name is longer than 200 characters');
  const tenant = await ctx.tenants.createTenant({ name, actor: ctx.actor });
  ctx.out(JSON.stringify({ id: tenant.id, name: tenant.name, created_at: tenant.createdAt.toISOString() }));
}
