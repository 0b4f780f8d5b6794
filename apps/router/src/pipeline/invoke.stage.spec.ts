import {
  type CallContext,
  CallAbort,
  type ChatChunk,
  type ChatRequest,
  type EmbeddingRequest,
  type EmbeddingResponse,
  type LlmAdapter,
  makeUsage,
  ProviderError,
  ProviderRegistry,
} from '@app/providers';
import type { CatalogModel } from '../routing/catalog';
import type { RoutingService } from '../routing/routing.service';
import { InvokeStage } from './invoke.stage';
import { catalogModel, chatRequest, chatResponse, chunk, routerConfig } from './pipeline.fakes';
import { pipelineMetrics } from './pipeline.metrics';

const failing = new ProviderError({
  provider: 'openai',
  status: 500,
  retryable: true,
  code: 'upstream_server_error',
  message: 'boom',
});

/** An adapter that records what it was asked (model and context) and fails the first `failures` calls. */
function recordingAdapter(id: string, failures = 0) {
  const seen: { op: string; model: string; ctx: CallContext }[] = [];
  const attempt = (op: string, req: { model: string }, ctx: CallContext) => {
    seen.push({ op, model: req.model, ctx });
    if (seen.length <= failures) throw failing;
  };
  const adapter: LlmAdapter = {
    id,
    chat: async (req: ChatRequest, ctx) => {
      attempt('chat', req, ctx);
      return chatResponse(req.model, `from ${req.model}`, makeUsage(5, 3));
    },
    stream: (req: ChatRequest, ctx) => {
      attempt('stream', req, ctx);
      return (async function* (): AsyncGenerator<ChatChunk> {
        yield chunk({ content: 'first' }, req.model);
        yield chunk({ content: 'second', finish: 'stop' }, req.model);
      })();
    },
    embed: async (req: EmbeddingRequest, ctx): Promise<EmbeddingResponse> => {
      attempt('embed', req, ctx);
      return { object: 'list', data: [], model: req.model, usage: { prompt_tokens: 4, total_tokens: 4 } };
    },
    close: async () => undefined,
  };
  return { adapter, seen };
}

function setup(adapters: LlmAdapter[]) {
  const outcomes: [string, boolean, number | null][] = [];
  const routing = {
    recordOutcome: async (model: CatalogModel, ok: boolean, latencyMs: number | null) => {
      outcomes.push([model.id, ok, latencyMs]);
    },
  } as unknown as RoutingService;
  const config = routerConfig({
    ATP_UPSTREAM_TIMEOUT_MS: 7000,
    ATP_REQUEST_DEADLINE_MS: 20_000,
    ATP_RETRIES_PER_CANDIDATE: 0,
  });
  return { stage: new InvokeStage(new ProviderRegistry(adapters), routing, config), outcomes };
}

/** atp_provider_requests_total as [provider, model, outcome, count] rows. */
async function providerRequests() {
  const { values } = await pipelineMetrics.providerRequests.get();
  return values.map((v) => [v.labels.provider, v.labels.model, v.labels.outcome, v.value]);
}

const a = catalogModel({ id: 'a', provider: 'openai' });
const b = catalogModel({ id: 'b', provider: 'anthropic' });

describe('InvokeStage', () => {
  // The stage runs on the system clock: held still, every attempt takes 0 ms.
  beforeEach(() => jest.spyOn(Date, 'now').mockReturnValue(1_700_000_000_000));
  afterEach(() => jest.restoreAllMocks());
  beforeEach(() => {
    pipelineMetrics.providerRequests.reset();
    pipelineMetrics.providerLatency.reset();
    pipelineMetrics.fallbacks.reset();
  });

  it('complete: each attempt asks for the upstream model id, with the attempt timeout and the signal', async () => {
    const openai = recordingAdapter('openai', 1);
    const anthropic = recordingAdapter('anthropic');
    const { stage } = setup([openai.adapter, anthropic.adapter]);
    const signal = new CallAbort();
    const outcome = await stage.complete([a, b], chatRequest({ model: 'fast' }), signal);
    expect([outcome.model.id, outcome.attempts, outcome.result.choices[0].message.content]).toEqual([
      'b',
      2,
      'from b-upstream',
    ]);
    expect(openai.seen.map((s) => [s.op, s.model, s.ctx.timeoutMs])).toEqual([['chat', 'a-upstream', 7000]]);
    expect(anthropic.seen.map((s) => [s.op, s.model, s.ctx.timeoutMs])).toEqual([
      ['chat', 'b-upstream', 7000],
    ]);
    expect(anthropic.seen[0].ctx.signal).toBe(signal);
  });

  it('every attempt is counted per provider and model and teaches routing; a fallback is counted', async () => {
    const { stage, outcomes } = setup([
      recordingAdapter('openai', 1).adapter,
      recordingAdapter('anthropic').adapter,
    ]);
    await stage.complete([a, b], chatRequest(), new CallAbort());
    expect(await providerRequests()).toEqual([
      ['openai', 'a', 'upstream_server_error', 1],
      ['anthropic', 'b', 'success', 1],
    ]);
    const latency = (await pipelineMetrics.providerLatency.get()).values.find(
      (v) => v.metricName === 'atp_provider_latency_seconds_count',
    );
    expect([latency?.labels, latency?.value]).toEqual([{ provider: 'anthropic', model: 'b' }, 1]);
    expect((await pipelineMetrics.fallbacks.get()).values[0].value).toBe(1);
    // failures teach no latency; successes teach theirs
    expect(outcomes).toEqual([
      ['a', false, null],
      ['b', true, 0],
    ]);
  });

  it('an upstream 400 blaming the request is counted, but not held against the model by routing', async () => {
    const rejecting: LlmAdapter = {
      ...recordingAdapter('openai').adapter,
      chat: async () => {
        throw new ProviderError({
          provider: 'openai',
          status: 400,
          retryable: false,
          code: 'upstream_bad_request',
          message: 'context too long',
        });
      },
    };
    const { stage, outcomes } = setup([rejecting]);
    await expect(stage.complete([a], chatRequest(), new CallAbort())).rejects.toMatchObject({
      status: 400,
      code: 'upstream_rejected_request',
    });
    expect(await providerRequests()).toEqual([['openai', 'a', 'upstream_bad_request', 1]]);
    // one client's malformed requests must not open the model's circuit for every tenant
    expect(outcomes).toEqual([]);
  });

  it('n choices from a vendor without native n: n calls for one attempt', async () => {
    const anthropic = recordingAdapter('anthropic');
    const { stage } = setup([anthropic.adapter]);
    const outcome = await stage.complete([b], chatRequest({ n: 2 }), new CallAbort());
    expect(anthropic.seen.map((s) => s.model)).toEqual(['b-upstream', 'b-upstream']);
    expect(outcome.result.choices.map((c) => c.index)).toEqual([0, 1]);
    expect(outcome.attempts).toBe(1);
  });

  it('openStream: opens on the upstream id and hands back the first chunk with the rest to read', async () => {
    const openai = recordingAdapter('openai', 1);
    const anthropic = recordingAdapter('anthropic');
    const { stage } = setup([openai.adapter, anthropic.adapter]);
    const outcome = await stage.openStream([a, b], chatRequest({ stream: true }), new CallAbort());
    expect([outcome.model.id, outcome.attempts]).toEqual(['b', 2]);
    expect(outcome.result.first.value?.choices[0].delta.content).toBe('first');
    expect((await outcome.result.iterator.next()).value?.choices[0].delta.content).toBe('second');
    expect(anthropic.seen.map((s) => [s.op, s.model, s.ctx.timeoutMs, s.ctx.ttftTimeoutMs])).toEqual([
      ['stream', 'b-upstream', 7000, 7000],
    ]);
  });

  it('embed: the upstream id, and the fallback as for chat', async () => {
    const openai = recordingAdapter('openai', 1);
    const anthropic = recordingAdapter('anthropic');
    const { stage } = setup([openai.adapter, anthropic.adapter]);
    const outcome = await stage.embed([a, b], { model: 'emb', input: 'text' }, new CallAbort());
    expect([outcome.model.id, outcome.result.model, outcome.attempts]).toEqual(['b', 'b-upstream', 2]);
    expect([...openai.seen, ...anthropic.seen].map((s) => [s.op, s.model])).toEqual([
      ['embed', 'a-upstream'],
      ['embed', 'b-upstream'],
    ]);
  });
});
