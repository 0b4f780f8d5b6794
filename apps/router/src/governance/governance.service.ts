import { Inject, Injectable } from '@nestjs/common';
import type { Limits, Principal } from '@app/auth';
import { AtpError } from '@app/common';
import type { ChatRequest, EmbeddingRequest } from '@app/providers';
import { PiiWorkers } from '@app/pii';
import type { Catalog } from '../routing/resolve-model';
import { CATALOG } from '../routing/routing.tokens';
import { CallAuditService } from './call-audit.service';
import { governanceMetrics } from './governance.metrics';
import { allowLists, modelAllowed } from './model-access';
import { applyEmbeddingPii, applyPromptPii, type PromptPiiMode, type PromptPiiResult } from './prompt-pii';
import { TenantLimitsCache } from './tenant-limits.cache';

/** The limits that apply to one request: the tenant's and, for an API key, the key's own. */
export interface RequestPolicy {
  tenant: Limits;
  key: Limits | null;
  piiMode: PromptPiiMode;
}

export interface RequestContext {
  requestId: string;
  sourceIp: string | null;
}

/**
 * Per-request policy before routing: which models the caller may use, and what happens to
 * personal data in the prompt. (Rate limits and budgets: AdmissionService.)
 */
@Injectable()
export class GovernanceService {
  private readonly m = governanceMetrics();

  constructor(
    private readonly limits: TenantLimitsCache,
    private readonly audit: CallAuditService,
    @Inject(CATALOG) private readonly catalog: Catalog,
    private readonly pii: PiiWorkers,
  ) {}

  /** Large prompts are scanned on worker threads, off the event loop (the policy needs only counts). */
  private readonly scan = (text: string, mode: 'redact' | 'block') => this.pii.apply(text, mode, {}, 'none');

  async policy(principal: Principal): Promise<RequestPolicy> {
    const tenant = await this.limits.get(principal.tenantId);
    const key = principal.type === 'api_key' ? principal.keyLimits : null;
    return { tenant, key, piiMode: key?.piiMode ?? tenant.piiMode ?? 'off' };
  }

  /** The names a request for `model` may be listed under: itself and its provider-qualified twin. */
  private namesOf(model: string): string[] {
    const m = this.catalog.models.get(model);
    if (m) return [model, `${m.provider}/${m.upstream}`];
    const slash = model.indexOf('/');
    if (slash > 0) {
      const [provider, upstream] = [model.slice(0, slash), model.slice(slash + 1)];
      const known = [...this.catalog.models.values()].find(
        (c) => c.provider === provider && c.upstream === upstream,
      );
      if (known) return [model, known.id];
    }
    return [model];
  }

  isModelAllowed(policy: RequestPolicy, model: string): boolean {
    return modelAllowed(this.namesOf(model), allowLists(policy.tenant, policy.key));
  }

  /** @throws AtpError 403 model_not_allowed */
  assertModelAllowed(policy: RequestPolicy, model: string): void {
    if (this.isModelAllowed(policy, model)) return;
    const lists = allowLists(policy.tenant, policy.key).filter((l): l is string[] => l !== undefined);
    const allowed = [...new Set(lists.flat())].slice(0, 20).join(', ');
    throw new AtpError(
      403,
      'model_not_allowed',
      `The model "${model}" is not allowed for this ${policy.key?.allowedModels ? 'API key' : 'tenant'}` +
        (allowed ? `; allowed: ${allowed}` : '; no model is allowed'),
      { param: 'model' },
    );
  }

  /** @throws AtpError 422 pii_blocked (audited as pii.blocked) */
  async chatPrompt(
    principal: Principal,
    policy: RequestPolicy,
    body: ChatRequest,
    ctx: RequestContext,
  ): Promise<PromptPiiResult<ChatRequest>> {
    return this.enforce(principal, await applyPromptPii(body, policy.piiMode, this.scan), ctx, 'chat');
  }

  /** @throws AtpError 422 pii_blocked (audited as pii.blocked) */
  async embeddingInput(
    principal: Principal,
    policy: RequestPolicy,
    body: EmbeddingRequest,
    ctx: RequestContext,
  ): Promise<PromptPiiResult<EmbeddingRequest>> {
    const result = await applyEmbeddingPii(body, policy.piiMode, this.scan);
    return this.enforce(principal, result, ctx, 'embeddings');
  }

  private enforce<T>(
    principal: Principal,
    result: PromptPiiResult<T>,
    ctx: RequestContext,
    resource: string,
  ): PromptPiiResult<T> {
    if (result.action !== 'off') this.m.piiActions.inc({ action: result.action });
    if (result.action === 'redacted' || result.action === 'blocked') {
      this.audit.pii(principal, result.action === 'blocked', result.summary, { ...ctx, resource });
    }
    if (result.action === 'blocked') {
      const types = result.summary.map((s) => `${s.type} ×${s.count}`).join(', ');
      throw new AtpError(
        422,
        'pii_blocked',
        `The prompt contains personal data (${types}) and this tenant's PII policy blocks it`,
        {
          headers: { 'x-atp-pii': 'blocked' },
        },
      );
    }
    return result;
  }
}
