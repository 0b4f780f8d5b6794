import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiKeyService, type Caller, type Limits, operatorCaller, TenantService } from '@app/auth';
import type { BootedApp } from '@app/testing';

// The fake upstreams are a test-only entry of libs/providers, deliberately not on its public surface.
export { type FakeUpstream, startFakeUpstream } from '@app/providers/testing';

export const ACTOR: Caller = { ...operatorCaller('e2e'), scopes: ['platform:admin', 'admin', 'llm'] };

/**
 * Models whose prices make budget numbers exact: `budget-model` costs $0.01 per output token
 * and answers at most 2 tokens, so a call reserves $0.02 (input is free) and, answering 1
 * token, costs $0.01. `stream-model` costs $0.001 per output token.
 */
export const ROUTING_YAML = `
models:
  - id: budget-model
    provider: openai
    upstream: gpt-budget
    input_per_1m: 0
    output_per_1m: 10000
    max_output_tokens: 2
  - id: stream-model
    provider: openai
    upstream: gpt-stream
    input_per_1m: 0
    output_per_1m: 1000
    max_output_tokens: 100
`;

/** Router env pointing every vendor at one fake upstream. */
export function upstreamEnv(upstream: {
  openaiBaseUrl: string;
  anthropicBaseUrl: string;
  googleBaseUrl: string;
}) {
  return {
    OPENAI_API_KEY: 'sk-fake-openai',
    OPENAI_BASE_URL: upstream.openaiBaseUrl,
    ANTHROPIC_API_KEY: 'sk-ant-fake',
    ANTHROPIC_BASE_URL: upstream.anthropicBaseUrl,
    GOOGLE_AI_API_KEY: 'fake-google-key',
    GOOGLE_AI_BASE_URL: upstream.googleBaseUrl,
  };
}

export function writeRoutingConfig(dir: string): string {
  const path = join(dir, 'routing.yaml');
  writeFileSync(path, ROUTING_YAML);
  return path;
}

/** A tenant with the given limits and one `llm` key (with its own limits, if any). */
export async function tenantWithKey(
  booted: BootedApp,
  tenantLimits: Limits = {},
  keyLimits: Limits | null = null,
): Promise<{ tenantId: string; key: string; keyId: string }> {
  const tenants = booted.app.get(TenantService);
  const tenant = await tenants.createTenant({
    name: `gov-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    actor: ACTOR,
  });
  await tenants.replaceLimits(tenant.id, tenantLimits);
  const created = await booted.app
    .get(ApiKeyService)
    .createKey({ tenantId: tenant.id, name: 'gov', scopes: ['llm'], actor: ACTOR, limits: keyLimits });
  return { tenantId: tenant.id, key: created.key, keyId: created.record.id };
}
