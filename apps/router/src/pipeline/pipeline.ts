import { Injectable } from '@nestjs/common';
import { AtpError, mapError, shutdownNotice } from '@app/common';
import {
  CallAbort,
  type ChatRequest,
  type ChatResponse,
  type EmbeddingRequest,
  estimateEmbeddingTokens,
  estimatePromptTokens,
  makeUsage,
  type Usage,
} from '@app/providers';
import type { AdmissionTicket } from '../limits/admission.service';
import { type CatalogModel, callCost } from '../routing/catalog';
import type { RoutePlan } from '../routing/routing.service';
import { AdmitStage } from './admit.stage';
import type { CallMeta, CallRequest, CompletedCall, EmbeddedCall, EmbedRequest, StreamedCall } from './call';
import { clientClosedError, shuttingDownError } from './call-errors';
import { type CachePlan, CacheStage } from './cache.stage';
import { attemptsOf } from './fallback';
import { InvokeStage } from './invoke.stage';
import { type CallEnd, type CallOutcome, Ledger, type LedgerEntry } from './ledger';
import { metricChildren as mc } from './pipeline.metrics';
import { type Policed, PolicyStage, type SessionState } from './policy.stage';
import { RouteStage } from './route.stage';
import { relayStream, replayStream } from './stream-relay';

/** A call that passed policy, routing and admission: what the later stages work with. */
export interface AdmittedCall<B> extends LedgerEntry {
  body: B;
  plan: RoutePlan;
  ticket: AdmissionTicket;
  /** Headers every answer of this call carries (x-atp-pii, x-atp-session, x-ratelimit-*). */
  headers: Record<string, string>;
  session: SessionState | null;
  /** Null for calls that are never cached (embeddings). */
  cache: CachePlan | null;
  /** Aborted when the client goes away or when the shutdown grace runs out. */
  signal: CallAbort;
  /** The client went away (the door's signal aborted). */
  clientGone: () => boolean;
  /** The shutdown grace ran out and ended this call. */
  shutdown: boolean;
  /** Stops listening for the shutdown notice (once the call is closed). */
  release: () => void;
}

const NO_USAGE: Usage = makeUsage(0, 0);

/**
 * Every model call, whatever door it came in through, goes one way through these stages:
 *
 *   policy → route → admit → cache → call (with fallback) → ledger → the door renders the result
 *
 * A stage gets what the earlier ones produced and never calls back into them. The door (its
 * controller and codec) turns its wire request into the canonical one before, and the canonical
 * result into its wire format after; only doors touch Fastify. The ledger closes every call
 * exactly once, whatever happens: refused, answered, failed, abandoned, cut or shut down.
 */
@Injectable()
export class CallPipeline {
  constructor(
    private readonly policy: PolicyStage,
    private readonly route: RouteStage,
    private readonly admit: AdmitStage,
    private readonly cache: CacheStage,
    private readonly invoke: InvokeStage,
    private readonly ledger: Ledger,
  ) {}

  /** A non-streamed chat call. @throws AtpError (with the call's headers) when refused or failed */
  async complete(req: CallRequest): Promise<CompletedCall> {
    const call = await this.admitChat(req);
    try {
      const hit = await this.cache.lookup(call.cache as CachePlan);
      if (hit) return { response: hit, meta: await this.closeFromCache(call, hit, false) };
      const { result, model, attempts } = await this.invoke
        .complete(call.plan.attempts, call.body, call.signal)
        .catch((err: unknown) => this.fail(call, err, false));
      const costUsd = callCost(model, result.usage);
      await this.ledger.close(call, ended(model, result.usage, costUsd, attempts, false, null));
      this.policy.remember(call.session, result.choices[0]?.message.content);
      const response: ChatResponse = { ...result, model: model.id };
      this.cache.store(call.cache as CachePlan, response);
      return { response, meta: meta(call, model, attempts, costUsd) };
    } finally {
      call.release();
    }
  }

  /**
   * A streamed chat call, returned once its first chunk arrived (failures before it fall back or
   * throw). Its chunks relay the rest; the ledger closes the call before the last one is yielded.
   */
  async stream(req: CallRequest): Promise<StreamedCall> {
    const call = await this.admitChat(req);
    let relaying = false;
    try {
      const hit = await this.cache.lookup(call.cache as CachePlan);
      if (hit) {
        const cachedMeta = await this.closeFromCache(call, hit, true);
        return { meta: cachedMeta, chunks: replayStream(hit), cancel: () => Promise.resolve() };
      }
      const opened = await this.invoke
        .openStream(call.plan.attempts, call.body, call.signal)
        .catch((err: unknown) => this.fail(call, err, true));
      relaying = true;
      const ttftMs = Date.now() - req.started;
      mc.providerTtft(opened.model.provider, opened.model.id).observe(ttftMs / 1000);
      const chunks = relayStream(call, opened, ttftMs, {
        close: (end) => this.ledger.close(call, end).finally(call.release),
        remember: (answer) => this.policy.remember(call.session, answer),
        store: (complete) => this.cache.store(call.cache as CachePlan, complete),
      });
      const cancel = async () => {
        if (call.closed) return;
        await opened.result.iterator.return?.().catch(() => undefined);
        const prompt = makeUsage(estimatePromptTokens(call.body), 0, true);
        const end = {
          ...ended(opened.model, prompt, 0, opened.attempts, true, ttftMs),
          status: 500,
          outcome: 'error' as const,
        };
        await this.ledger.close(call, end).finally(call.release);
      };
      return { meta: meta(call, opened.model, opened.attempts, null), chunks, cancel };
    } finally {
      if (!relaying) call.release();
    }
  }

  /** An embeddings call (never cached, never streamed). @throws AtpError as complete() */
  async embed(req: EmbedRequest): Promise<EmbeddedCall> {
    const call = await this.admitEmbeddings(req);
    try {
      const { result, model, attempts } = await this.invoke
        .embed(call.plan.attempts, call.body, call.signal)
        .catch((err: unknown) => this.fail(call, err, false));
      const usage = makeUsage(result.usage.prompt_tokens, 0, result.usage.estimated);
      const costUsd = callCost(model, usage);
      await this.ledger.close(call, ended(model, usage, costUsd, attempts, false, null));
      return { response: { ...result, model: model.id }, meta: meta(call, model, attempts, costUsd) };
    } finally {
      call.release();
    }
  }

  /** policy → route (and the cache plan, whose header is checked before anything is reserved) → admit */
  private async admitChat(req: CallRequest): Promise<AdmittedCall<ChatRequest>> {
    let policed: Policed<ChatRequest> | null = null;
    try {
      policed = await this.policy.chat(req);
      const plan = await this.route.chat(req.body.model);
      const { tenantId } = req.caller;
      const cache = this.cache.plan(tenantId, plan.route.route, plan.route.cache, policed.body, req.options);
      const ticket = await this.admit.chat(req.caller, policed.limits, plan, policed.body);
      return admittedCall(req, policed, plan, ticket, cache);
    } catch (err) {
      throw await this.refuse(req, err, policed?.headers);
    }
  }

  /** policy → route (with the input checks of the chosen models) → admit */
  private async admitEmbeddings(req: EmbedRequest): Promise<AdmittedCall<EmbeddingRequest>> {
    let policed: Policed<EmbeddingRequest> | null = null;
    try {
      policed = await this.policy.embeddings(req);
      const plan = await this.route.embeddings(policed.body);
      const ticket = await this.admit.embeddings(req.caller, policed.limits, plan, policed.body);
      return admittedCall(req, policed, plan, ticket, null);
    } catch (err) {
      throw await this.refuse(req, err, policed?.headers);
    }
  }

  /** A call refused before it was admitted: audited (no usage row), answered with the headers so far. */
  private async refuse(req: CallRequest | EmbedRequest, err: unknown, headers = {}): Promise<unknown> {
    const entry = {
      door: req.door,
      caller: req.caller,
      started: req.started,
      route: req.body.model,
      ticket: null,
    };
    const end = {
      ...ended(null, NO_USAGE, 0, 0, false, null),
      status: mapError(err).status,
      outcome: 'refused' as const,
    };
    await this.ledger.close(entry, end);
    return withHeaders(err, headers);
  }

  /**
   * Every attempt failed (or the client left, or the shutdown grace ran out) before an answer:
   * closed with the estimated prompt, nothing billed, on the first candidate's row.
   */
  private async fail(
    call: AdmittedCall<ChatRequest | EmbeddingRequest>,
    err: unknown,
    stream: boolean,
  ): Promise<never> {
    const gone = call.clientGone();
    const status = call.shutdown ? 503 : gone ? 499 : mapError(err).status;
    const outcome: CallOutcome = call.shutdown ? 'shutdown' : gone ? 'client_closed' : 'error';
    const prompt =
      'messages' in call.body ? estimatePromptTokens(call.body) : estimateEmbeddingTokens(call.body);
    const model = call.plan.attempts[0] ?? null;
    const end = {
      ...ended(model, makeUsage(prompt, 0, true), 0, attemptsOf(err), stream, null),
      status,
      outcome,
    };
    await this.ledger.close(call, end);
    if (call.shutdown) throw shuttingDownError();
    // The client went away: nothing to answer and nothing unexpected to log as an error.
    if (gone && !stream) throw clientClosedError();
    throw withHeaders(err, call.headers);
  }

  /** A cached answer: no provider call, nothing billed (the usage row says cached). */
  private async closeFromCache(
    call: AdmittedCall<ChatRequest>,
    hit: ChatResponse,
    stream: boolean,
  ): Promise<CallMeta> {
    // The key includes the route, so one of its candidates gave this answer (unless the catalog changed since).
    const model = call.plan.attempts.find((m) => m.id === hit.model) ?? cachedModel(hit.model, call.plan);
    await this.ledger.close(call, { ...ended(model, hit.usage, 0, 0, stream, 0), cached: true });
    return meta(call, model, 0, 0);
  }
}

/** Builds the admitted call; the shutdown notice (SIGTERM, grace running out) aborts it. */
function admittedCall<B>(
  req: CallRequest | EmbedRequest,
  policed: Policed<B>,
  plan: RoutePlan,
  ticket: AdmissionTicket,
  cache: CachePlan | null,
): AdmittedCall<B> {
  const signal = new CallAbort();
  const onClientGone = () => signal.abort(req.signal.reason);
  if (req.signal.aborted) onClientGone();
  else req.signal.addEventListener('abort', onClientGone, { once: true });
  const call: AdmittedCall<B> = {
    door: req.door,
    caller: req.caller,
    started: req.started,
    route: plan.route.route,
    ticket,
    body: policed.body,
    plan,
    // Object.assign, not `{ ...a, ...b }`: keys added after a spread cost ~3 µs here (Node 20;
    // bench/README.md, "Object spreads").
    headers: Object.assign({}, policed.headers, ticket.headers),
    session: policed.session,
    cache,
    signal,
    clientGone: () => req.signal.aborted,
    shutdown: false,
    release: () => {
      unsubscribe();
      req.signal.removeEventListener('abort', onClientGone);
    },
  };
  // Stop the upstream call so this one ends with a retryable error, billed and recorded, before the process exits.
  const unsubscribe = shutdownNotice.subscribe(() => {
    call.shutdown = true;
    signal.abort(new Error('server shutting down'));
  });
  return call;
}

/** A successful end (status 200, outcome ok); failures override status and outcome. */
export function ended(
  model: CatalogModel | null,
  usage: Usage,
  costUsd: number,
  attempts: number,
  stream: boolean,
  ttftMs: number | null,
): CallEnd {
  return { status: 200, outcome: 'ok', model, usage, costUsd, attempts, stream, ttftMs, cached: false };
}

/** What the door writes on its answer: the governance headers and which model answered, how. */
function meta(
  call: AdmittedCall<unknown>,
  model: CatalogModel,
  attempts: number,
  costUsd: number | null,
): CallMeta {
  const headers: Record<string, string> = Object.assign({}, call.headers, {
    'x-atp-provider': model.provider,
    'x-atp-model': headerValue(model.id),
    'x-atp-route': headerValue(call.route),
    'x-atp-attempts': String(attempts),
    'x-atp-cache': call.cache?.result ?? 'bypass',
  });
  // A stream's cost is known only at its end (its head is long gone by then).
  if (costUsd !== null) headers['x-atp-cost-usd'] = costUsd.toFixed(8);
  return { model: model.id, provider: model.provider, headers };
}

/**
 * A route or a provider-qualified model id comes from the client and may hold characters a
 * header cannot carry (Node refuses to write them): those are percent-encoded.
 */
function headerValue(v: string): string {
  return /^[\x20-\x7e]*$/.test(v) ? v : encodeURI(v);
}

/** The model a cached answer is recorded under when no current candidate has its id. */
function cachedModel(id: string, plan: RoutePlan): CatalogModel {
  const base = plan.attempts[0] as CatalogModel;
  return { ...base, id, provider: 'cache' };
}

/** The call's headers on its error answer too (x-atp-pii, x-ratelimit-*), under the error's own. */
function withHeaders(err: unknown, headers: Record<string, string>): unknown {
  if (!(err instanceof AtpError) || Object.keys(headers).length === 0) return err;
  return new AtpError(err.status, err.code, err.message, {
    param: err.param,
    type: err.type,
    headers: { ...headers, ...err.headers },
    cause: err.cause,
    dependency: err.dependency ?? undefined,
  });
}
