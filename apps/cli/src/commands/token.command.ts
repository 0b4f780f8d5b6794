import { parseArgs } from 'node:util';
import { isUuid, parseScopeList, parseTtl, signPlatformToken } from '@app/auth';
import type { CliContext } from '../cli-context';
import { UsageError } from '../usage-error';

/**
 * `token --tenant <id> --scopes … --ttl 1h [--sub s]`: a platform JWT signed HS256 with the
 * configured JWT secret (JWT_SECRET_KEY, or the development secret both services share). Prints
 * only the token on stdout, so `$(npm run -s atp -- token …)` works.
 */
export async function tokenCommand(ctx: CliContext, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      tenant: { type: 'string' },
      scopes: { type: 'string' },
      ttl: { type: 'string' },
      sub: { type: 'string' },
    },
  });
  if (!values.tenant || !isUuid(values.tenant))
    throw new UsageError('--tenant <id> (a tenant UUID) is required');
  if (!values.scopes) throw new UsageError('--scopes is required, e.g. --scopes llm,memory:read');
  let scopes;
  let ttlSeconds;
  try {
    scopes = parseScopeList(values.scopes);
    ttlSeconds = parseTtl(values.ttl ?? '1h');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (!ctx.config.jwtSecret) throw new UsageError('JWT_SECRET_KEY is required to sign tokens');
  await ctx.tenants.getTenant(values.tenant);
  const env = ctx.config.env;
  const { token, expiresAt } = signPlatformToken({
    secret: ctx.config.jwtSecret,
    tenantId: values.tenant,
    scopes,
    subject: values.sub?.trim() || ctx.actor.subject,
    ttlSeconds,
    issuer: env.JWT_ISSUER,
    audience: env.JWT_AUDIENCE,
  });
  ctx.out(token);
  ctx.err(`token for tenant ${values.tenant} (${scopes.join(' ')}), expires ${expiresAt.toISOString()}`);
}
