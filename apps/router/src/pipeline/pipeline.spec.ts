import { AtpError, shutdownNotice } from '@app/common';
import {
  type AbortLike,
  CallAbort,
  type ChatChunk,
  type ChatResponse,
  type EmbeddingResponse,
  makeUsage,
} from '@app/providers';
import type { CatalogModel } from '../routing/catalog';
import type { AdmitStage } from './admit.stage';
import type { CallRequest, EmbedRequest } from './call';
import type { CachePlan, CacheStage } from './cache.stage';
import type { AttemptOutcome } from './fallback';
import type { InvokeStage, OpenedStream } from './invoke.stage';
import type { CallEnd, Ledger, LedgerEntry } from './ledger';
import { CallPipeline } from './pipeline';
import {
  admissionTicket,
  caller,
  catalogModel,
  chatRequest,
  chatResponse,
  chunk,
  session,
  rejection,
  routePlan,
} from './pipeline.fakes';
import type { PolicyStage } from './policy.stage';
import type { RouteStage } from './route.stage';

/** $1 a prompt token, $2 a completion token: costs read as token counts. */
const a = catalogModel({ id: 'model-a', provider: 'openai', inputPer1M: 1e6, outputPer1M: 2e6 });
const b = catalogModel({ id: 'model-b', provider: 'anthropic' });
const USAGE = makeUsage(10, 4);
const POLICY_HEADERS = { 'x-atp-pii': 'none' };
const TICKET_HEADERS = { 'x-ratelimit-remaining-requests': '9' };

type StageName = 'policy' | 'route' | 'cache.plan' | 'admit' | 'invoke';

/** What the fake stages do: refuse at a stage, answer from the cache, or fail every attempt. */
interface Script {
  refuseAt?: StageName;
  cached?: ChatResponse;
  invokeFails?: AtpError;
  /** Runs while the call waits on its attempts (the client leaving, the shutdown notice). */
  duringInvoke?: (signal: AbortLike) => void;
  /** The route's name (the alias or model the client asked for). */
  routeName?: string;
}

/**
 * A pipeline over fakes of every stage that record, in one array, each stage they are asked to
 * run (and each close of the ledger, with its outcome and status), in order.
 */
function setup(script: Script = {}) {
  const log: string[] = [];
  const closes: { entry: LedgerEntry; end: CallEnd }[] = [];
  const refusals: Record<StageName, AtpError> = {
    policy: new AtpError(403, 'model_not_allowed', 'not allowed'),
    route: AtpError.notFound('model_not_found', 'no such model'),
    'cache.plan': AtpError.badRequest('invalid_request', 'x-atp-cache-ttl must be 1..2592000 seconds'),
    admit: new AtpError(429, 'rate_limit_exceeded', 'slow down', { headers: { 'retry-after': '3' } }),
    invoke: new AtpError(502, 'upstream_error', 'All providers failed', {
      headers: { 'x-atp-attempts': '2' },
    }),
  };
  const step = (name: StageName, what: string) => {
    log.push(what);
    if (script.refuseAt === name) throw refusals[name];
  };
  const attempt = async <T>(what: string, signal: AbortLike, result: T): Promise<AttemptOutcome<T>> => {
    step('invoke', what);
    script.duringInvoke?.(signal);
    if (script.invokeFails) throw script.invokeFails;
    return { result, model: a, attempts: 1 };
  };
  const cachePlan: CachePlan = { key: 'rc:key', directive: 'use', ttlSeconds: 60, result: 'miss' };

  const policy = {
    chat: async (req: CallRequest) => {
      step('policy', 'policy.chat');
      return { body: req.body, limits: {}, headers: POLICY_HEADERS, session };
    },
    embeddings: async (req: EmbedRequest) => {
      step('policy', 'policy.embeddings');
      return { body: req.body, limits: {}, headers: POLICY_HEADERS, session: null };
    },
    remember: (_s: unknown, answer: string) => log.push(`policy.remember "${answer}"`),
  } as unknown as PolicyStage;
  const route = {
    chat: async () => (step('route', 'route.chat'), routePlan([a, b], script.routeName)),
    embeddings: async () => (step('route', 'route.embeddings'), routePlan([a, b], 'emb')),
  } as unknown as RouteStage;
  const admit = {
    chat: async () => (step('admit', 'admit.chat'), admissionTicket(TICKET_HEADERS)),
    embeddings: async () => (step('admit', 'admit.embeddings'), admissionTicket(TICKET_HEADERS)),
  } as unknown as AdmitStage;
  const cache = {
    plan: () => (step('cache.plan', 'cache.plan'), cachePlan),
    lookup: async (p: CachePlan) => {
      log.push('cache.lookup');
      if (script.cached) p.result = 'hit';
      return script.cached ?? null;
    },
    store: (_p: CachePlan, r: ChatResponse) => log.push(`cache.store ${r.model}`),
  } as unknown as CacheStage;
  const invoke = {
    complete: (_c: CatalogModel[], _b: unknown, signal: AbortLike) =>
      attempt('invoke.complete', signal, chatResponse('model-a-upstream', 'Hello world', USAGE)),
    openStream: async (_c: CatalogModel[], _b: unknown, signal: AbortLike) => {
      const iterator = (async function* () {
        yield chunk({ content: 'Hello' });
        yield chunk({ content: ' world', finish: 'stop' });
        yield chunk({ usage: USAGE });
      })();
      return attempt<OpenedStream>('invoke.openStream', signal, { iterator, first: await iterator.next() });
    },
    embed: (_c: CatalogModel[], _b: unknown, signal: AbortLike) =>
      attempt<EmbeddingResponse>('invoke.embed', signal, {
        object: 'list',
        data: [{ object: 'embedding', index: 0, embedding: [0.5] }],
        model: 'model-a-upstream',
        usage: { prompt_tokens: 6, total_tokens: 6 },
      }),
  } as unknown as InvokeStage;
  const ledger = {
    // As the real ledger: a call is closed once (it marks the entry), later closes are no-ops.
    close: async (entry: LedgerEntry, end: CallEnd) => {
      if (entry.closed) return;
      entry.closed = true;
      log.push(`ledger.close ${end.outcome} ${end.status}`);
      closes.push({ entry, end });
    },
  } as unknown as Ledger;
  return { pipeline: new CallPipeline(policy, route, admit, cache, invoke, ledger), log, closes };
}

function chatCall(stream = false, signal: AbortLike = new CallAbort()): CallRequest {
  return { door: 'chat', caller, body: chatRequest({ stream }), options: {}, signal, started: Date.now() };
}
function embedCall(): EmbedRequest {
  const body = { model: 'emb', input: 'some text' };
  return { door: 'embeddings', caller, body, options: {}, signal: new CallAbort(), started: Date.now() };
}

async function readAll(chunks: AsyncIterable<ChatChunk>): Promise<string> {
  let text = '';
  for await (const c of chunks) text += c.choices[0]?.delta.content ?? '';
  return text;
}

const CALL_HEADERS = { ...POLICY_HEADERS, ...TICKET_HEADERS };
/** What a chat call asks of the stages before its attempts, in order. */
const BEFORE_INVOKE = ['policy.chat', 'route.chat', 'cache.plan', 'admit.chat', 'cache.lookup'];
/** What follows an answered chat call: the ledger, then the session and the cache keep the answer. */
const AFTER_ANSWER = ['ledger.close ok 200', 'policy.remember "Hello world"', 'cache.store model-a'];

describe('CallPipeline', () => {
  afterEach(() => shutdownNotice.reset());

  describe('one direction through the stages', () => {
    it('complete: policy → route → cache plan → admit → cache lookup → invoke → ledger, then remember and store', async () => {
      const { pipeline, log, closes } = setup();
      const { response, meta } = await pipeline.complete(chatCall());
      expect(log).toEqual([...BEFORE_INVOKE, 'invoke.complete', ...AFTER_ANSWER]);
      expect(response.model).toBe('model-a');
      expect(meta).toEqual({
        model: 'model-a',
        provider: 'openai',
        headers: {
          ...CALL_HEADERS,
          'x-atp-provider': 'openai',
          'x-atp-model': 'model-a',
          'x-atp-route': 'fast',
          'x-atp-attempts': '1',
          'x-atp-cache': 'miss',
          'x-atp-cost-usd': '18.00000000',
        },
      });
      expect(closes.map((c) => c.end)).toEqual([
        {
          status: 200,
          outcome: 'ok',
          model: a,
          usage: USAGE,
          costUsd: 18,
          attempts: 1,
          stream: false,
          ttftMs: null,
          cached: false,
        },
      ]);
    });

    it('stream: the same stages; the ledger closes as the relayed chunks end', async () => {
      const { pipeline, log, closes } = setup();
      const { meta, chunks } = await pipeline.stream(chatCall(true));
      expect(log).toEqual([...BEFORE_INVOKE, 'invoke.openStream']);
      // a stream's cost is known only at its end
      expect(meta.headers['x-atp-cost-usd']).toBeUndefined();
      expect(await readAll(chunks)).toBe('Hello world');
      expect(log).toEqual([...BEFORE_INVOKE, 'invoke.openStream', ...AFTER_ANSWER]);
      expect(closes.map((c) => [c.end.stream, c.end.usage, c.end.costUsd])).toEqual([[true, USAGE, 18]]);
    });

    it('embed: policy → route → admit → invoke → ledger (never cached)', async () => {
      const { pipeline, log, closes } = setup();
      const { response, meta } = await pipeline.embed(embedCall());
      expect(log).toEqual([
        'policy.embeddings',
        'route.embeddings',
        'admit.embeddings',
        'invoke.embed',
        'ledger.close ok 200',
      ]);
      expect([response.model, meta.headers['x-atp-cache'], meta.headers['x-atp-cost-usd']]).toEqual([
        'model-a',
        'bypass',
        '6.00000000',
      ]);
      expect(closes[0].end).toMatchObject({ usage: makeUsage(6, 0), costUsd: 6, stream: false });
    });

    it('a cached answer: no provider call, closed as cached at no cost (replayed for a stream)', async () => {
      const hit = chatResponse('model-a', 'from the cache', USAGE);
      const { pipeline, log, closes } = setup({ cached: hit });
      const { response, meta } = await pipeline.complete(chatCall());
      expect([response, meta.headers['x-atp-cache'], meta.headers['x-atp-attempts']]).toEqual([
        hit,
        'hit',
        '0',
      ]);
      const streamed = await pipeline.stream(chatCall(true));
      expect(await readAll(streamed.chunks)).toBe('from the cache');
      expect(log.filter((l) => l.startsWith('invoke') || l.startsWith('ledger'))).toEqual([
        'ledger.close ok 200',
        'ledger.close ok 200',
      ]);
      expect(closes.map((c) => [c.end.cached, c.end.costUsd, c.end.model?.id, c.end.stream])).toEqual([
        [true, 0, 'model-a', false],
        [true, 0, 'model-a', true],
      ]);
    });
  });

  describe('a refusal at each stage closes the call once as refused, with no model and no ticket', () => {
    // the stage that refuses, how many stages ran, the headers the refusal carries
    const cases: [StageName, number, Record<string, string>][] = [
      ['policy', 1, {}],
      ['route', 2, POLICY_HEADERS],
      ['cache.plan', 3, POLICY_HEADERS],
      ['admit', 4, { ...POLICY_HEADERS, 'retry-after': '3' }],
    ];
    it.each(cases)('%s', async (stage, ran, headers) => {
      for (const run of ['complete', 'stream'] as const) {
        const { pipeline, log, closes } = setup({ refuseAt: stage });
        const err = await rejection(pipeline[run](chatCall(run === 'stream')));
        expect(log).toEqual([...BEFORE_INVOKE.slice(0, ran), `ledger.close refused ${err.status}`]);
        expect(
          closes.map((c) => [c.entry.ticket, c.entry.route, c.end.model, c.end.usage, c.end.costUsd]),
        ).toEqual([[null, 'fast', null, makeUsage(0, 0), 0]]);
        // the answer carries the headers of the stages that ran (x-atp-pii) under the error's own
        expect(err.headers).toEqual(headers);
      }
    });

    it('embeddings: refused by routing (before anything is reserved)', async () => {
      const { pipeline, log } = setup({ refuseAt: 'route' });
      await rejection(pipeline.embed(embedCall()));
      expect(log).toEqual(['policy.embeddings', 'route.embeddings', 'ledger.close refused 404']);
    });
  });

  describe('a failure after admission closes once, on the first candidate, with the estimated prompt', () => {
    const failed = new AtpError(502, 'upstream_error', 'All providers failed', {
      headers: { 'x-atp-attempts': '2' },
    });

    it.each(['complete', 'stream'] as const)('%s: the error carries the call headers', async (run) => {
      const { pipeline, log, closes } = setup({ invokeFails: failed });
      const err = await rejection(pipeline[run](chatCall(run === 'stream')));
      expect([err.status, err.code, err.headers]).toEqual([
        502,
        'upstream_error',
        { ...CALL_HEADERS, 'x-atp-attempts': '2' },
      ]);
      expect(log.slice(-2)).toEqual([
        run === 'stream' ? 'invoke.openStream' : 'invoke.complete',
        'ledger.close error 502',
      ]);
      expect(
        closes.map((c) => [c.end.model, c.end.usage, c.end.costUsd, c.end.attempts, c.end.stream]),
      ).toEqual([[a, makeUsage(7, 0, true), 0, 2, run === 'stream']]);
    });

    it('embed: the same', async () => {
      const { pipeline, closes } = setup({ invokeFails: failed });
      const err = await rejection(pipeline.embed(embedCall()));
      expect(err.headers).toEqual({ ...CALL_HEADERS, 'x-atp-attempts': '2' });
      // "some text" is estimated at 3 tokens
      expect(closes.map((c) => [c.end.outcome, c.end.model, c.end.usage])).toEqual([
        ['error', a, makeUsage(3, 0, true)],
      ]);
    });

    it('the client leaving: the attempt is aborted, closed as client_closed 499', async () => {
      const client = new CallAbort();
      const { pipeline, closes } = setup({
        invokeFails: failed,
        duringInvoke: (signal) => {
          client.abort(new Error('client gone'));
          // the signal the attempts run with follows the client's
          expect(signal.aborted).toBe(true);
        },
      });
      const err = await rejection(pipeline.complete(chatCall(false, client)));
      expect([err.status, err.code]).toEqual([499, 'client_closed_request']);
      expect(closes.map((c) => [c.end.outcome, c.end.status])).toEqual([['client_closed', 499]]);
    });

    it('the shutdown notice: the attempt is aborted, closed as shutdown 503, answered with a retryable 503', async () => {
      const { pipeline, closes } = setup({
        invokeFails: failed,
        duringInvoke: (signal) => {
          shutdownNotice.fire();
          expect(signal.aborted).toBe(true);
        },
      });
      const err = await rejection(pipeline.complete(chatCall()));
      expect([err.status, err.code, err.headers['retry-after']]).toEqual([503, 'server_shutting_down', '5']);
      expect(closes.map((c) => [c.end.outcome, c.end.status])).toEqual([['shutdown', 503]]);
    });
  });

  describe('a stream the door cannot start', () => {
    it('cancel() stops the upstream and closes the call once as failed; a relayed stream ignores it', async () => {
      const { pipeline, closes } = setup();
      const unstarted = await pipeline.stream(chatCall(true));
      await unstarted.cancel();
      await unstarted.cancel();
      expect(closes.map((c) => [c.end.outcome, c.end.status, c.end.model?.id])).toEqual([
        ['error', 500, 'model-a'],
      ]);

      const relayed = await pipeline.stream(chatCall(true));
      expect(await readAll(relayed.chunks)).toBe('Hello world');
      await relayed.cancel();
      expect(closes.map((c) => c.end.outcome)).toEqual(['error', 'ok']);
    });
  });

  it('a route name a header cannot carry is percent-encoded in x-atp-route', async () => {
    const { pipeline } = setup({ routeName: 'openai/gpt-€' });
    const { meta } = await pipeline.complete(chatCall());
    expect(meta.headers['x-atp-route']).toBe('openai/gpt-%E2%82%AC');
  });
});
