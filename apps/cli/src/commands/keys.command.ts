import { parseArgs } from 'node:util';
import { type ApiKeyRecord, isUuid, parseScopeList } from '@app/auth';
// The CLI bundles the gateway's rotation use case: it runs against the same database, no server needed.
import { rotateKek } from '../../../memory-gateway/src/crypto/rotate-kek';
import type { CliContext } from '../cli-context';
import { UsageError } from '../usage-error';

function keyJson(k: ApiKeyRecord) {
  return {
    id: k.id,
    tenant_id: k.tenantId,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes,
    created_by: k.createdBy,
    created_at: k.createdAt.toISOString(),
    expires_at: k.expiresAt?.toISOString() ?? null,
    last_used_at: k.lastUsedAt?.toISOString() ?? null,
  };
}

function tenantOption(value: string | undefined): string {
  if (!value) throw new UsageError('--tenant <id> is required');
  if (!isUuid(value)) throw new UsageError(`--tenant must be a tenant id (a UUID), got "${value}"`);
  return value;
}

function scopesOption(value: string | undefined) {
  if (!value) throw new UsageError('--scopes is required, e.g. --scopes llm,memory:read');
  try {
    return parseScopeList(value);
  } catch (err) {
    throw new UsageError(`--scopes: ${(err as Error).message}`);
  }
}

function expiryOption(value: string | undefined): Date | null {
  if (!value) return null;
  const at = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}(T.*)?$/.test(value) || Number.isNaN(at.getTime())) {
    throw new UsageError(`--expires-at must be an ISO 8601 date-time, got "${value}"`);
  }
  return at;
}

async function create(ctx: CliContext, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      tenant: { type: 'string' },
      scopes: { type: 'string' },
      name: { type: 'string' },
      'expires-at': { type: 'string' },
    },
  });
  const { key, record } = await ctx.keys.createKey({
    tenantId: tenantOption(values.tenant),
    name: values.name?.trim() || 'created with the CLI',
    scopes: scopesOption(values.scopes),
    expiresAt: expiryOption(values['expires-at']),
    actor: ctx.actor,
  });
  ctx.out(JSON.stringify({ ...keyJson(record), key }));
  ctx.err('Store the key now: it is shown only this once.');
}

async function list(ctx: CliContext, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, strict: true, options: { tenant: { type: 'string' } } });
  const tenantId = tenantOption(values.tenant);
  await ctx.tenants.getTenant(tenantId);
  ctx.out(JSON.stringify((await ctx.keys.listKeys(tenantId)).map(keyJson)));
}

async function revoke(ctx: CliContext, args: string[]): Promise<void> {
  const { positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: {} });
  const [id] = positionals;
  if (!id || positionals.length > 1) throw new UsageError('keys revoke needs exactly one key id');
  const { tenantId } = await ctx.keys.revokeKeyAnyTenant({ keyId: id, actor: ctx.actor });
  ctx.out(JSON.stringify({ id, tenant_id: tenantId, revoked: true }));
}

/** `keys create|list|revoke`. */
/**
 * Re-wraps every tenant data key under the primary ENCRYPTION_KEY (the first of the ring).
 * Values are untouched; old ring keys may be removed once this reports no skips.
 */
async function rotateKekCommand(ctx: CliContext, args: string[]): Promise<void> {
  if (args.length) throw new UsageError('keys rotate-kek takes no arguments (it uses ENCRYPTION_KEY)');
  if (!ctx.config.encryptionKeys.length) throw new UsageError('ENCRYPTION_KEY is required to rotate the KEK');
  const result = await rotateKek(ctx.dataSource, ctx.config.encryptionKeys);
  ctx.out(
    JSON.stringify({
      primary_kek_id: result.primaryKekId,
      checked: result.checked,
      rewrapped: result.rewrapped,
      unchanged: result.unchanged,
      skipped: result.skipped,
    }),
  );
  if (result.skipped) ctx.err(`${result.skipped} data key(s) changed while rotating: run it again`);
}

export async function keysCommand(ctx: CliContext, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'create') return create(ctx, rest);
  if (sub === 'list') return list(ctx, rest);
  if (sub === 'revoke') return revoke(ctx, rest);
  if (sub === 'rotate-kek') return rotateKekCommand(ctx, rest);
  throw new UsageError(
    `unknown keys command: ${sub ?? '(none)'} (try: keys create | keys list | keys revoke | keys rotate-kek)`,
  );
}
