import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import {
  type AbortLike,
  type ChatChunk,
  type ChatRequest,
  type ChatResponse,
  type EmbeddingRequest,
  type EmbeddingResponse,
  type LlmAdapter,
  ProviderRegistry,
} from '@app/providers';
import type { CatalogModel } from '../routing/catalog';
import { RoutingService } from '../routing/routing.service';
import { chatWithChoices } from './choices';
import {
  type AttemptHooks,
  type AttemptOutcome,
  type AttemptPolicy,
  isClientFault,
  policyFromEnv,
  runWithFallback,
} from './fallback';
import { pipelineMetrics as m, metricChildren as mc } from './pipeline.metrics';

/** A stream whose first chunk has arrived (or that ended before sending one). */
export interface OpenedStream {
  iterator: AsyncIterator<ChatChunk>;
  first: IteratorResult<ChatChunk>;
}

/**
 * Stage 5, call: the provider adapters behind the fallback loop (runWithFallback: retries with
 * backoff, Retry-After, the deadline, the circuit). Every attempt is counted per provider and
 * model and, unless the upstream blamed the request itself, teaches the learned routing stats and
 * the circuit breaker.
 */
@Injectable()
export class InvokeStage {
  private readonly policy: AttemptPolicy;
  private readonly hooks: AttemptHooks;

  constructor(
    private readonly registry: ProviderRegistry,
    routing: RoutingService,
    @Inject(APP_CONFIG) config: AppConfig<'router'>,
  ) {
    this.policy = policyFromEnv(config.env);
    this.hooks = {
      onSuccess: (model, latencyMs) => {
        mc.providerRequests(model.provider, model.id, 'success').inc();
        mc.providerLatency(model.provider, model.id).observe(latencyMs / 1000);
        void routing.recordOutcome(model, true, latencyMs);
      },
      onFailure: (model, err) => {
        mc.providerRequests(model.provider, model.id, err.code).inc();
        // One client's malformed requests must not open the model's circuit for every tenant.
        if (!isClientFault(err)) void routing.recordOutcome(model, false, null);
      },
      onFallback: () => m.fallbacks.inc(),
    };
  }

  /** A complete answer (n choices: see choices.ts). @throws AtpError when every attempt failed */
  complete(
    candidates: CatalogModel[],
    body: ChatRequest,
    signal: AbortLike,
  ): Promise<AttemptOutcome<ChatResponse>> {
    return this.withFallback(candidates, signal, (adapter, model, timeoutMs) =>
      chatWithChoices(adapter, { ...body, model: model.upstream }, { signal, timeoutMs }),
    );
  }

  /**
   * A stream, opened once its first chunk arrived: a failure before it falls back like any other
   * attempt; after it there is no fallback (the client has seen bytes).
   */
  openStream(
    candidates: CatalogModel[],
    body: ChatRequest,
    signal: AbortLike,
  ): Promise<AttemptOutcome<OpenedStream>> {
    return this.withFallback(candidates, signal, async (adapter, model, timeoutMs) => {
      const iterator = adapter
        .stream({ ...body, model: model.upstream }, { signal, timeoutMs, ttftTimeoutMs: timeoutMs })
        [Symbol.asyncIterator]();
      return { iterator, first: await iterator.next() };
    });
  }

  embed(
    candidates: CatalogModel[],
    body: EmbeddingRequest,
    signal: AbortLike,
  ): Promise<AttemptOutcome<EmbeddingResponse>> {
    return this.withFallback(candidates, signal, (adapter, model, timeoutMs) =>
      adapter.embed({ ...body, model: model.upstream }, { signal, timeoutMs }),
    );
  }

  /** One attempt per candidate, on its provider's adapter, under the fallback policy and hooks. */
  private withFallback<T>(
    candidates: CatalogModel[],
    signal: AbortLike,
    attempt: (adapter: LlmAdapter, model: CatalogModel, timeoutMs: number) => Promise<T>,
  ): Promise<AttemptOutcome<T>> {
    return runWithFallback(
      candidates,
      this.policy,
      signal,
      (model, timeoutMs) => attempt(this.registry.getAdapter(model.provider), model, timeoutMs),
      this.hooks,
    );
  }
}
