import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '@app/auth';
import { KV_STORE, type KvStore } from '@app/cache';
import { AtpError, mapError, shutdownNotice } from '@app/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import {
  type AbortLike,
  type ChatChunk,
  type ChatRequest,
  type ChatResponse,
  estimatePromptTokens,
  makeUsage,
  ProviderError,
  ProviderRegistry,
  type Usage,
} from '@app/providers';
import {
  cacheKey,
  type CacheResult,
  ChunkAssembler,
  parseDirective,
  replayAsChunks,
  ResponseCache,
} from '../cache/response-cache';
import { type CatalogModel, costUsd } from '../routing/catalog';
import { RoutingService } from '../routing/routing.service';
import { UsageRecorder } from '../usage/usage-recorder';
import { type AdmittedChat, ChatAdmission } from './chat-admission';
import { chatWithChoices } from './choices';
import { abortOnHangUp, clientClosedError } from './client-abort';
import { completionMetrics as m, metricChildren as mc } from './completions.metrics';
import {
  type AttemptHooks,
  type AttemptPolicy,
  attemptsOf,
  policyFromEnv,
  runWithFallback,
} from './fallback';

interface RequestScope {
  principal: Principal;
  requestId: string;
  started: number;
  signal: AbortLike;
  route: string;
  /** Governance state: the admission to settle, headers for the SSE head, the session. */
  admitted: AdmittedChat;
  /** Response cache: the key when caching applies to this request, and what the cache did. */
  cache: { key: string | null; ttlSeconds: number; result: CacheResult };
  /** The shutdown grace is running out: the call was ended (its signal aborted) for that. */
  shutdown: boolean;
}

const MAX_CACHE_TTL_SECONDS = 30 * 86_400;

/**
 * What the client sees of a chunk. Adapters always end a stream with a usage chunk
 * (`choices: []`) so the router can bill it; OpenAI sends that chunk, and `usage` at all, only
 * when `stream_options.include_usage` is true, and the common client loop
 * (`chunk.choices[0].delta`) breaks on an empty list. Null: the chunk is not sent.
 */
function clientChunk(chunk: ChatChunk, body: ChatRequest): ChatChunk | null {
  if (body.stream_options?.include_usage) return chunk;
  if (chunk.choices.length === 0) return null;
  if (chunk.usage === undefined) return chunk;
  const { usage: _usage, ...rest } = chunk;
  return rest;
}

/** What a call still running when the shutdown grace runs out ends with (a retryable 503). */
export function shuttingDownError(): AtpError {
  return AtpError.unavailable(
    'server_shutting_down',
    'The server is shutting down and ended this request before it finished; retry it (another instance will serve it)',
  );
}

/** POST /v1/chat/completions: route, call with retries and fallbacks, answer as JSON or SSE, record usage. */
@Injectable()
export class CompletionsService {
  private readonly policy: AttemptPolicy;
  private readonly cache: ResponseCache;
  private readonly defaultCacheTtl: number;

  constructor(
    private readonly routing: RoutingService,
    private readonly registry: ProviderRegistry,
    private readonly usage: UsageRecorder,
    private readonly governance: ChatAdmission,
    @Inject(APP_CONFIG) config: AppConfig<'router'>,
    @Inject(KV_STORE) kv: KvStore,
  ) {
    this.policy = policyFromEnv(config.env);
    this.cache = new ResponseCache(kv);
    this.defaultCacheTtl = config.env.ATP_CACHE_TTL_SECONDS;
  }

  /**
   * Caching applies to routes configured with `cache: true` and to requests that send
   * `x-atp-cache-ttl: <seconds>`; `x-atp-cache: bypass` skips it, `refresh` re-asks the provider
   * and stores the new answer.
   */
  private cachePlan(
    req: FastifyRequest,
    tenantId: string,
    route: string,
    routeCaches: boolean,
    body: ChatRequest,
  ) {
    const directive = parseDirective(req.headers['x-atp-cache']);
    const ttlHeader = req.headers['x-atp-cache-ttl'];
    let ttlSeconds = this.defaultCacheTtl;
    if (typeof ttlHeader === 'string') {
      const n = Number(ttlHeader);
      if (!Number.isInteger(n) || n < 1 || n > MAX_CACHE_TTL_SECONDS) {
        throw AtpError.badRequest(
          'invalid_request',
          `x-atp-cache-ttl must be 1..${MAX_CACHE_TTL_SECONDS} seconds`,
        );
      }
      ttlSeconds = n;
    }
    const enabled = (routeCaches || typeof ttlHeader === 'string') && directive !== 'bypass';
    return {
      directive,
      key: enabled ? cacheKey(tenantId, route, body) : null,
      ttlSeconds,
      result: (enabled ? 'miss' : 'bypass') as CacheResult,
    };
  }

  private hooks(): AttemptHooks {
    return {
      onSuccess: (model, latencyMs) => {
        mc.providerRequests(model.provider, model.id, 'success').inc();
        mc.providerLatency(model.provider, model.id).observe(latencyMs / 1000);
        void this.routing.recordOutcome(model, true, latencyMs);
      },
      onFailure: (model, err) => {
        mc.providerRequests(model.provider, model.id, err.code).inc();
        void this.routing.recordOutcome(model, false, null);
      },
      onFallback: () => m.fallbacks.inc(),
    };
  }

  async handle(
    principal: Principal,
    raw: ChatRequest,
    req: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> {
    const started = Date.now();
    const admitted = await this.governance.admit(principal, raw, req, reply, started);
    const { body, plan } = admitted;
    const signal = abortOnHangUp(reply);
    const cache = this.cachePlan(req, principal.tenantId, plan.route.route, plan.route.cache, body);
    const scope: RequestScope = {
      principal,
      requestId: admitted.requestId,
      started,
      signal,
      route: plan.route.route,
      admitted,
      cache: { key: cache.key, ttlSeconds: cache.ttlSeconds, result: cache.result },
      shutdown: false,
    };
    // SIGTERM and the grace is running out (run-service): stop the upstream call so this one ends
    // with a retryable error, billed and recorded, before the process exits.
    const unsubscribe = shutdownNotice.subscribe(() => {
      scope.shutdown = true;
      signal.abort(new Error('server shutting down'));
    });
    try {
      await this.serve(scope, body, plan.attempts, cache.directive, reply);
    } finally {
      unsubscribe();
    }
  }

  private async serve(
    scope: RequestScope,
    body: ChatRequest,
    attempts: CatalogModel[],
    directive: ReturnType<typeof parseDirective>,
    reply: FastifyReply,
  ): Promise<void> {
    const { cache, signal, admitted } = scope;
    if (cache.key && directive === 'use') {
      const hit = await this.cache.get(cache.key);
      mc.cache(hit ? 'hit' : 'miss').inc();
      if (hit) return this.serveCached(scope, body, hit, reply);
    } else if (!cache.key) {
      mc.cache('bypass').inc();
    }
    if (body.stream) return this.stream(scope, body, attempts, reply);

    let outcome;
    try {
      outcome = await runWithFallback(
        attempts,
        this.policy,
        signal,
        (model, timeoutMs) =>
          chatWithChoices(
            this.registry.getAdapter(model.provider),
            { ...body, model: model.upstream },
            { signal, timeoutMs },
          ),
        this.hooks(),
      );
    } catch (err) {
      await this.recordFailure(scope, body, attempts[0], err, false);
      if (scope.shutdown) throw shuttingDownError();
      // The client went away: nothing to answer and nothing unexpected to log as an error.
      if (signal.aborted) throw clientClosedError();
      throw err;
    }
    const { result, model } = outcome;
    const cost = costUsd(model, result.usage.prompt_tokens, result.usage.completion_tokens);
    // Durable (ATP_DURABLE_RECORDS): the row and the audit event are committed before the answer.
    await this.record(scope, model, result.usage, {
      status: 200,
      outcome: 'ok',
      cost,
      attempts: outcome.attempts,
      stream: false,
      ttftMs: null,
    });
    this.governance.remember(admitted, result.choices[0]?.message.content);
    const response: ChatResponse = { ...result, model: model.id };
    if (scope.cache.key) void this.cache.set(scope.cache.key, response, scope.cache.ttlSeconds);
    reply
      .header('x-atp-provider', model.provider)
      .header('x-atp-model', model.id)
      .header('x-atp-route', scope.route)
      .header('x-atp-attempts', String(outcome.attempts))
      .header('x-atp-cache', scope.cache.result)
      .header('x-atp-cost-usd', cost.toFixed(8))
      .status(200)
      .send(response);
  }

  /** A cached answer: no provider call, nothing billed (the usage row says cached). */
  private async serveCached(scope: RequestScope, body: ChatRequest, hit: ChatResponse, reply: FastifyReply) {
    scope.cache.result = 'hit';
    const model = this.routing.catalog.models.get(hit.model) ?? {
      ...(this.routing.catalog.models.get('mock-1') as CatalogModel),
      id: hit.model,
      provider: 'cache',
    };
    await this.record(scope, model, hit.usage, {
      status: 200,
      outcome: 'ok',
      cost: 0,
      attempts: 0,
      stream: !!body.stream,
      ttftMs: 0,
      cached: true,
    });
    if (!body.stream) {
      reply
        .header('x-atp-provider', model.provider)
        .header('x-atp-model', model.id)
        .header('x-atp-route', scope.route)
        .header('x-atp-attempts', '0')
        .header('x-atp-cache', 'hit')
        .header('x-atp-cost-usd', (0).toFixed(8))
        .status(200)
        .send(hit);
      return;
    }
    const write = this.openSse(reply, scope, model, 0);
    for (const chunk of replayAsChunks(hit)) {
      const sent = clientChunk(chunk, body);
      if (sent) await write(JSON.stringify(sent));
    }
    await write('[DONE]');
    if (!reply.raw.destroyed) reply.raw.end();
  }

  /** Sends the SSE head and returns a writer that respects backpressure. */
  private openSse(reply: FastifyReply, scope: RequestScope, model: CatalogModel, attempts: number) {
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-request-id': scope.requestId,
      'x-atp-provider': model.provider,
      'x-atp-model': model.id,
      'x-atp-route': scope.route,
      'x-atp-attempts': String(attempts),
      'x-atp-cache': scope.cache.result,
      ...scope.admitted.headers,
    });
    // The events parsed from one upstream read go out in one write: the socket is corked on the
    // first event of a tick and uncorked once the tick's promise jobs have run (a syscall per
    // event was the largest cost of a streamed answer).
    let corked = false;
    const uncork = () => {
      corked = false;
      // end() has already uncorked fully (and the socket may serve the next request by now).
      if (!raw.writableEnded) raw.uncork();
    };
    return async (data: string) => {
      if (raw.destroyed) return;
      if (!corked) {
        corked = true;
        raw.cork();
        process.nextTick(uncork);
      }
      if (!raw.write(`data: ${data}\n\n`))
        await new Promise<void>((r) => raw.once('drain', () => r()).once('close', () => r()));
    };
  }

  private async stream(
    scope: RequestScope,
    body: ChatRequest,
    candidates: CatalogModel[],
    reply: FastifyReply,
  ): Promise<void> {
    let outcome;
    try {
      outcome = await runWithFallback(
        candidates,
        this.policy,
        scope.signal,
        async (model, timeoutMs) => {
          const iterator = this.registry
            .getAdapter(model.provider)
            .stream(
              { ...body, model: model.upstream },
              { signal: scope.signal, timeoutMs, ttftTimeoutMs: timeoutMs },
            )
            [Symbol.asyncIterator]();
          const first = await iterator.next();
          return { iterator, first };
        },
        this.hooks(),
      );
    } catch (err) {
      await this.recordFailure(scope, body, candidates[0], err, true);
      if (scope.shutdown) throw shuttingDownError();
      throw err;
    }
    const { model, attempts } = outcome;
    const { iterator, first } = outcome.result;
    const ttftMs = Date.now() - scope.started;
    mc.providerTtft(model.provider, model.id).observe(ttftMs / 1000);

    const raw = reply.raw;
    const write = this.openSse(reply, scope, model, attempts);
    const assembler = scope.cache.key ? new ChunkAssembler() : null;

    let usage: Usage | null = null;
    let completionChars = 0;
    let answer = '';
    let status = 200;
    let outcomeLabel = 'ok';
    /** The stream's last event: [DONE], or an error envelope (none when the client is gone). */
    let last: string | null = '[DONE]';
    const forward = async (chunk: ChatChunk) => {
      if (chunk.usage) usage = chunk.usage;
      assembler?.add({ ...chunk, model: model.id });
      for (const c of chunk.choices) {
        completionChars += (c.delta.content ?? '').length;
        if (scope.admitted.session && c.index === 0) answer += c.delta.content ?? '';
        for (const t of c.delta.tool_calls ?? []) completionChars += (t.function?.arguments ?? '').length;
      }
      const sent = clientChunk(chunk, body);
      if (sent) await write(JSON.stringify({ ...sent, model: model.id }));
    };
    try {
      if (!first.done) await forward(first.value);
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        await forward(next.value);
      }
    } catch (err) {
      if (scope.shutdown) {
        // The grace is running out: a retryable error event; the tokens relayed so far are billed.
        status = 503;
        outcomeLabel = 'shutdown';
        last = JSON.stringify(shuttingDownError().toEnvelope());
        if (err instanceof ProviderError && err.partialUsage) usage = err.partialUsage;
      } else if (scope.signal.aborted) {
        outcomeLabel = 'client_closed';
        status = 499;
        last = null;
      } else {
        // After the first byte there is no fallback: end the stream with an error event.
        const mapped = err instanceof ProviderError ? err : null;
        status = 502;
        outcomeLabel = 'error';
        const envelope = mapError(
          new AtpError(
            502,
            mapped?.code ?? 'upstream_error',
            `Stream interrupted: ${(err as Error).message}`,
          ),
        );
        last = JSON.stringify(envelope.body);
        if (mapped?.partialUsage) usage = mapped.partialUsage;
      }
    } finally {
      await iterator.return?.().catch(() => undefined);
      // Without the vendor's count (cut streams), completion tokens are estimated from the text
      // relayed: ~4 characters a token (marked `estimated`).
      const final: Usage =
        usage ?? makeUsage(estimatePromptTokens(body), Math.ceil(completionChars / 4), true);
      const cost = costUsd(model, final.prompt_tokens, final.completion_tokens);
      const recorded = this.record(scope, model, final, {
        status,
        outcome: outcomeLabel,
        cost,
        attempts,
        stream: true,
        ttftMs,
      });
      // The row and the audit event are committed before the stream's last event (durable mode).
      if (last !== null && !raw.destroyed) {
        await recorded;
        await write(last).catch(() => undefined);
      }
      if (!raw.destroyed) raw.end();
      if (outcomeLabel === 'ok') this.governance.remember(scope.admitted, answer);
      const complete = outcomeLabel === 'ok' && usage ? assembler?.build(usage) : null;
      if (complete && scope.cache.key) void this.cache.set(scope.cache.key, complete, scope.cache.ttlSeconds);
    }
  }

  private recordFailure(
    scope: RequestScope,
    body: ChatRequest,
    model: CatalogModel | undefined,
    err: unknown,
    stream: boolean,
  ): Promise<void> {
    const status = scope.shutdown ? 503 : scope.signal.aborted ? 499 : mapError(err).status;
    const attempts = attemptsOf(err);
    const usage = makeUsage(estimatePromptTokens(body), 0, true);
    if (!model) {
      return this.governance.finish(scope, { status, model: null, usage, cost: 0 }, this.usage.durable);
    }
    return this.record(scope, model, usage, {
      status,
      outcome: scope.shutdown ? 'shutdown' : scope.signal.aborted ? 'client_closed' : 'error',
      cost: 0,
      attempts,
      stream,
      ttftMs: null,
    });
  }

  private record(
    scope: RequestScope,
    model: CatalogModel,
    usage: Usage,
    r: {
      status: number;
      outcome: string;
      cost: number;
      attempts: number;
      stream: boolean;
      ttftMs: number | null;
      cached?: boolean;
    },
  ): Promise<void> {
    mc.tokens('input').inc(usage.prompt_tokens);
    mc.tokens('output').inc(usage.completion_tokens);
    m.cost.inc(r.cost);
    // Settle before the usage row is queued: a budget rebuilt from the rows never counts a call twice.
    const durable = this.usage.durable;
    const audited = this.governance.finish(scope, { status: r.status, model, usage, cost: r.cost }, durable);
    const p = scope.principal;
    const latencyMs = Date.now() - scope.started;
    const written = this.usage.record({
      tenantId: p.tenantId,
      apiKeyId: p.type === 'api_key' ? p.credentialId : null,
      subject: p.subject,
      endpoint: 'chat',
      route: scope.route,
      provider: model.provider,
      model: model.id,
      promptTokens: usage.prompt_tokens,
      completionTokens: usage.completion_tokens,
      totalTokens: usage.prompt_tokens + usage.completion_tokens,
      costUsd: r.cost,
      latencyMs,
      ttftMs: r.ttftMs,
      status: r.status,
      outcome: r.outcome,
      cached: r.cached ?? false,
      estimated: Boolean(usage.estimated),
      stream: r.stream,
      attempts: r.attempts,
      requestId: scope.requestId,
    });
    return durable ? Promise.all([audited, written]).then(() => undefined) : written;
  }
}
