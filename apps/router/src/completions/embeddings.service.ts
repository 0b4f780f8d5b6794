import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '@app/auth';
import { mapError } from '@app/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { estimateEmbeddingTokens, type EmbeddingRequest, ProviderRegistry } from '@app/providers';
import { AdmissionService } from '../governance/admission.service';
import { CallAuditService } from '../governance/call-audit.service';
import { GovernanceService } from '../governance/governance.service';
import { embeddingTokenBound } from '../governance/prompt-bound';
import { type CatalogModel, costUsd } from '../routing/catalog';
import { RoutingService } from '../routing/routing.service';
import { UsageRecorder } from '../usage/usage-recorder';
import { abortOnHangUp, clientClosedError } from './client-abort';
import {
  assertDimensions,
  assertEmbeddingInput,
  encodeEmbeddings,
  type WireEmbeddingResponse,
} from './embedding-params';
import { completionMetrics as m } from './completions.metrics';
import { type AttemptPolicy, attemptsOf, policyFromEnv, runWithFallback } from './fallback';

/** POST /v1/embeddings: governance, route with fallbacks, record usage, settle, audit. */
@Injectable()
export class EmbeddingsService {
  private readonly policy: AttemptPolicy;

  constructor(
    private readonly routing: RoutingService,
    private readonly registry: ProviderRegistry,
    private readonly usage: UsageRecorder,
    private readonly governance: GovernanceService,
    private readonly admission: AdmissionService,
    private readonly audit: CallAuditService,
    @Inject(APP_CONFIG) config: AppConfig<'router'>,
  ) {
    this.policy = policyFromEnv(config.env);
  }

  async create(
    principal: Principal,
    raw: EmbeddingRequest,
    req: FastifyRequest,
    reply: FastifyReply,
  ): Promise<WireEmbeddingResponse> {
    const started = Date.now();
    const ctx = { requestId: String(req.id), sourceIp: req.ip ?? null };
    let route = raw.model;
    let served: CatalogModel | null = null;
    let tokens = 0;
    let cost = 0;
    let status = 200;
    let written: Promise<void> = Promise.resolve();
    try {
      const policy = await this.governance.policy(principal);
      this.governance.assertModelAllowed(policy, raw.model);
      const pii = await this.governance.embeddingInput(principal, policy, raw, ctx);
      reply.header('x-atp-pii', pii.action);
      const body = pii.body;
      const plan = await this.routing.plan(body.model, 'embedding');
      route = plan.route.route;
      if (plan.attempts[0]) assertEmbeddingInput(body, plan.attempts[0]);
      assertDimensions(body, plan.attempts);
      const promptTokens = estimateEmbeddingTokens(body);
      const ticket = await this.admission.admit({
        principal,
        tenantLimits: policy.tenant,
        requestId: ctx.requestId,
        candidates: plan.attempts,
        promptTokens,
        // The budget reserves a true upper bound of what the vendor bills (UTF-8 bytes), as chat does.
        promptTokenBound: embeddingTokenBound(body),
        maxTokens: 0,
      });
      for (const [k, v] of Object.entries(ticket.headers)) reply.header(k, v);
      // The deadline and per-attempt timeouts are runWithFallback's and the adapter's.
      const signal = abortOnHangUp(reply);
      let outcome;
      try {
        outcome = await runWithFallback(
          plan.attempts,
          this.policy,
          signal,
          (candidate, timeoutMs) =>
            this.registry
              .getAdapter(candidate.provider)
              .embed({ ...body, model: candidate.upstream }, { signal, timeoutMs }),
          {
            onSuccess: (c, ms) => void this.routing.recordOutcome(c, true, ms),
            onFailure: (c) => void this.routing.recordOutcome(c, false, null),
            onFallback: () => m.fallbacks.inc(),
          },
        );
      } catch (err) {
        this.admission.settle(ticket, promptTokens, 0);
        const failed = signal.aborted ? 499 : mapError(err).status;
        const attempts = attemptsOf(err);
        const row = { route, tokens: promptTokens, cost: 0, status: failed, attempts, estimated: true };
        if (plan.attempts[0]) this.recordUsage(principal, ctx.requestId, started, plan.attempts[0], row);
        if (signal.aborted) throw clientClosedError();
        throw err;
      }
      const { result, model, attempts } = outcome;
      served = model;
      tokens = result.usage.prompt_tokens;
      cost = costUsd(model, tokens, 0);
      this.admission.settle(ticket, tokens, cost);
      m.tokens.inc({ direction: 'input' }, tokens);
      m.cost.inc(cost);
      written = this.recordUsage(principal, ctx.requestId, started, model, {
        route,
        tokens,
        cost,
        status: 200,
        attempts,
        estimated: Boolean(result.usage.estimated),
      });
      reply
        .header('x-atp-provider', model.provider)
        .header('x-atp-model', model.id)
        .header('x-atp-route', route)
        .header('x-atp-attempts', String(attempts))
        .header('x-atp-cache', 'bypass')
        .header('x-atp-cost-usd', cost.toFixed(8));
      return encodeEmbeddings({ ...result, model: model.id }, body.encoding_format);
    } catch (err) {
      status = mapError(err).status;
      throw err;
    } finally {
      // Durable (ATP_DURABLE_RECORDS): the row and the audit event are committed before the answer.
      const audited = this.audit.call(
        {
          principal,
          action: 'embeddings',
          ...ctx,
          status,
          route,
          provider: served?.provider ?? null,
          model: served?.id ?? null,
          promptTokens: tokens,
          completionTokens: 0,
          costUsd: cost,
          latencyMs: Date.now() - started,
        },
        this.usage.durable,
      );
      await Promise.all([written, audited]);
    }
  }

  /** The request's usage row: one per call that reached routing (failures and hang-ups too). */
  private recordUsage(
    principal: Principal,
    requestId: string,
    started: number,
    model: CatalogModel,
    r: { route: string; tokens: number; cost: number; status: number; attempts: number; estimated: boolean },
  ): Promise<void> {
    return this.usage.record({
      tenantId: principal.tenantId,
      apiKeyId: principal.type === 'api_key' ? principal.credentialId : null,
      subject: principal.subject,
      endpoint: 'embeddings',
      route: r.route,
      provider: model.provider,
      model: model.id,
      promptTokens: r.tokens,
      completionTokens: 0,
      totalTokens: r.tokens,
      costUsd: r.cost,
      latencyMs: Date.now() - started,
      ttftMs: null,
      status: r.status,
      outcome: r.status === 200 ? 'ok' : r.status === 499 ? 'client_closed' : 'error',
      cached: false,
      estimated: r.estimated,
      stream: false,
      attempts: r.attempts,
      requestId,
    });
  }
}
