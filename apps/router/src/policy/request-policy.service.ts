import { Inject, Injectable } from '@nestjs/common';
import type { Limits, Caller } from '@app/auth';
import { AtpError } from '@app/common';
import type { ChatRequest, EmbeddingRequest } from '@app/providers';
import { PiiWorkers } from '@app/pii';
import type { Catalog } from '../routing/resolve-model';
import { CATALOG } from '../routing/routing.tokens';
import { CallAuditService } from '../usage/call-audit.service';
import { limitsMetrics } from '../limits/limits.metrics';
import { allowLists, modelAllowed } from './model-access';
import { applyEmbeddingPii, applyPromptPii, type PromptPiiMode, type PromptPiiResult } from './prompt-pii';
import { TenantLimitsCache } from '../limits/tenant-limits.cache';

/** The limits that apply to one request: the tenant's and, for an API key, the key's own. */
export interface RequestPolicy {
  tenant: Limits;
  key: Limits | null;
  piiMode: PromptPiiMode;
}

/**
 * Per-request policy before routing: which models the caller may use, and what happens to
 * personal data in the prompt. (Rate limits and budgets: AdmissionService.)
 */
@Injectable()
export class RequestPolicyService {
  private readonly m = limitsMetrics();

  constructor(
    private readonly limits: TenantLimitsCache,
    private readonly audit: CallAuditService,
    @Inject(CATALOG) private readonly catalog: Catalog,
    private readonly pii: PiiWorkers,
  ) {}

  /** Large prompts are scanned on worker threads, off the event loop (the policy needs only counts). */
  private readonly scan = (text: string, mode: 'redact' | 'block') => this.pii.apply(text, mode, {}, 'none');

  async policy(caller: Caller): Promise<RequestPolicy> {
    const tenant = await this.limits.get(caller.tenantId);
    const key = caller.type === 'api_key' ? caller.keyLimits : null;
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
    caller: Caller,
    policy: RequestPolicy,
    body: ChatRequest,
  ): Promise<PromptPiiResult<ChatRequest>> {
    return this.enforce(caller, await applyPromptPii(body, policy.piiMode, this.scan), 'chat');
  }

  /** @throws AtpError 422 pii_blocked (audited as pii.blocked) */
  async embeddingInput(
    caller: Caller,
    policy: RequestPolicy,
    body: EmbeddingRequest,
  ): Promise<PromptPiiResult<EmbeddingRequest>> {
    const result = await applyEmbeddingPii(body, policy.piiMode, this.scan);
    return this.enforce(caller, result, 'embeddings');
  }

  private enforce<T>(caller: Caller, result: PromptPiiResult<T>, resource: string): PromptPiiResult<T> {
    if (result.action !== 'off') this.m.piiActions.inc({ action: result.action });
    if (result.action === 'redacted' || result.action === 'blocked') {
      this.audit.pii(caller, result.action === 'blocked', result.summary, resource);
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
