import {
  type ChatChunk,
  type ChatRequest,
  type ChatResponse,
  makeUsage,
  ProviderError,
} from '@app/providers';
import { StreamCut } from './call';
import type { CachePlan } from './cache.stage';
import type { CallEnd } from './ledger';
import type { AdmittedCall } from './pipeline';
import { catalogModel, chatRequest, chatResponse, chunk, session } from './pipeline.fakes';
import { relayStream, replayStream } from './stream-relay';

/** $1 a prompt token, $2 a completion token: costs read as token counts. */
const model = catalogModel({ id: 'gpt-x', inputPer1M: 1_000_000, outputPer1M: 2_000_000 });
const VENDOR_USAGE = makeUsage(10, 4);
/** "hello there" is estimated at 7 prompt tokens. */
const body = chatRequest({ stream: true });

const caching: CachePlan = { key: 'rc:k', directive: 'use', ttlSeconds: 60, result: 'miss' };

/** The parts of an admitted call the relay reads. */
function admitted(state: { gone?: boolean; shutdown?: boolean } = {}): AdmittedCall<ChatRequest> {
  return {
    body,
    session,
    cache: caching,
    get shutdown() {
      return state.shutdown ?? false;
    },
    clientGone: () => state.gone ?? false,
  } as unknown as AdmittedCall<ChatRequest>;
}

/**
 * An upstream stream of `chunks` that then ends, or fails with `fail`; `hooks` run before each
 * read (the client leaving, the shutdown). Everything is logged in one array, in order.
 */
async function relay(
  chunks: ChatChunk[],
  opts: { fail?: Error; call?: AdmittedCall<ChatRequest>; beforeRead?: (n: number) => void } = {},
) {
  const log: string[] = [];
  const ends: CallEnd[] = [];
  let reads = 0;
  const iterator: AsyncIterator<ChatChunk> = {
    next: async () => {
      opts.beforeRead?.(reads);
      if (reads < chunks.length) return { done: false, value: chunks[reads++] };
      if (opts.fail) throw opts.fail;
      return { done: true, value: undefined };
    },
    return: async () => {
      log.push('upstream closed');
      return { done: true, value: undefined };
    },
  };
  const first = await iterator.next();
  let closing: Promise<void> = Promise.resolve();
  const gen = relayStream(opts.call ?? admitted(), { model, attempts: 2, result: { iterator, first } }, 90, {
    close: (end) => {
      log.push(`close ${end.status} ${end.outcome}`);
      ends.push(end);
      return closing;
    },
    remember: (answer) => log.push(`remember "${answer}"`),
    store: (complete: ChatResponse) => log.push(`store "${complete.choices[0].message.content}"`),
  });
  const hold = (p: Promise<void>) => (closing = p);
  return { gen, log, ends, hold };
}

/** Reads the relay to its end: the chunks' [model, content] and the StreamCut it ended with, if any. */
async function drain(gen: AsyncGenerator<ChatChunk>) {
  const seen: [string, string | null | undefined][] = [];
  try {
    for await (const c of gen) seen.push([c.model, c.choices[0]?.delta.content]);
    return { seen, cut: null };
  } catch (err) {
    if (!(err instanceof StreamCut)) throw err;
    return { seen, cut: err };
  }
}

const answer = [
  chunk({ content: 'Hello' }),
  chunk({ content: ' world', finish: 'stop' }),
  chunk({ usage: VENDOR_USAGE }),
];
const providerError = (partialUsage?: ReturnType<typeof makeUsage>) =>
  new ProviderError({
    provider: 'openai',
    status: 502,
    retryable: true,
    code: 'upstream_stream_error',
    message: 'connection reset',
    partialUsage,
  });

/** A relay of `answer` whose second read fails with `err` once the client is gone or the shutdown came. */
function cutAtSecondRead(what: 'gone' | 'shutdown', err: Error) {
  const state = { gone: false, shutdown: false };
  return relay(answer, {
    call: admitted(state),
    beforeRead: (n) => {
      if (n !== 1) return;
      state[what] = true;
      throw err;
    },
  });
}

describe('relayStream', () => {
  it('relays every chunk under the catalog id, then closes the call with the vendor usage', async () => {
    const { gen, log, ends } = await relay(answer);
    const { seen, cut } = await drain(gen);
    expect(seen).toEqual([
      ['gpt-x', 'Hello'],
      ['gpt-x', ' world'],
      ['gpt-x', undefined],
    ]);
    expect(cut).toBeNull();
    expect(ends).toEqual([
      {
        status: 200,
        outcome: 'ok',
        model,
        usage: VENDOR_USAGE,
        costUsd: 18,
        attempts: 2,
        stream: true,
        ttftMs: 90,
        cached: false,
      },
    ]);
    expect(log).toEqual(['upstream closed', 'close 200 ok', 'remember "Hello world"', 'store "Hello world"']);
  });

  it('the ledger closes the call before the iteration finishes', async () => {
    const { gen, hold } = await relay(answer);
    let committed!: () => void;
    hold(new Promise<void>((r) => (committed = r)));
    for (let i = 0; i < answer.length; i++) await gen.next();
    let finished = false;
    const last = gen.next().then((r) => (finished = r.done === true));
    await new Promise((r) => setImmediate(r));
    expect(finished).toBe(false);
    committed();
    await last;
    expect(finished).toBe(true);
  });

  it('an upstream failure mid-stream: a 502 StreamCut, the partial usage billed, nothing remembered or stored', async () => {
    const { gen, log, ends } = await relay(answer.slice(0, 1), { fail: providerError(makeUsage(10, 1)) });
    const { seen, cut } = await drain(gen);
    expect(seen).toEqual([['gpt-x', 'Hello']]);
    expect([cut?.clientGone, cut?.error.status, cut?.error.code, cut?.error.message]).toEqual([
      false,
      502,
      'upstream_stream_error',
      'Stream interrupted: connection reset',
    ]);
    expect(ends).toEqual([
      expect.objectContaining({ status: 502, outcome: 'error', usage: makeUsage(10, 1), costUsd: 12 }),
    ]);
    expect(log).toEqual(['upstream closed', 'close 502 error']);
  });

  it('without the vendor count, a cut stream bills the estimate: the prompt and ~4 characters a token', async () => {
    const { gen, ends } = await relay([chunk({ content: 'Hello world!' })], {
      fail: new Error('socket hang up'),
    });
    const { cut } = await drain(gen);
    expect([cut?.error.code, cut?.error.message]).toEqual([
      'upstream_error',
      'Stream interrupted: socket hang up',
    ]);
    expect([ends[0].usage, ends[0].costUsd]).toEqual([makeUsage(7, 3, true), 13]);
  });

  it('the client leaving mid-stream: a StreamCut marked clientGone with 499, closed as client_closed', async () => {
    const abort = new ProviderError({
      provider: 'openai',
      status: 499,
      retryable: false,
      code: 'client_aborted',
      message: 'aborted',
    });
    const { gen, ends } = await cutAtSecondRead('gone', abort);
    const { seen, cut } = await drain(gen);
    expect(seen).toHaveLength(1);
    expect([cut?.clientGone, cut?.error.status, cut?.error.code]).toEqual([
      true,
      499,
      'client_closed_request',
    ]);
    expect(ends).toEqual([
      expect.objectContaining({ status: 499, outcome: 'client_closed', usage: makeUsage(7, 2, true) }),
    ]);
  });

  it('the door stopping early (its client is gone): the upstream is closed and the call closed as client_closed', async () => {
    const { gen, log, ends } = await relay(answer);
    await gen.next();
    await expect(gen.return(undefined)).resolves.toEqual({ done: true, value: undefined });
    expect(log).toEqual(['upstream closed', 'close 499 client_closed']);
    expect(ends[0].usage).toEqual(makeUsage(7, 2, true));
  });

  it('the shutdown grace running out: a 503 StreamCut the client can retry on, the tokens so far billed', async () => {
    const { gen, ends } = await cutAtSecondRead('shutdown', providerError(makeUsage(10, 1)));
    const { cut } = await drain(gen);
    expect([cut?.clientGone, cut?.error.status, cut?.error.code]).toEqual([
      false,
      503,
      'server_shutting_down',
    ]);
    expect(ends).toEqual([
      expect.objectContaining({ status: 503, outcome: 'shutdown', usage: makeUsage(10, 1) }),
    ]);
  });

  it('no cache key, no session: nothing stored and no answer kept', async () => {
    const call = { ...admitted(), cache: null, session: null } as unknown as AdmittedCall<ChatRequest>;
    const { gen, log } = await relay(answer, { call });
    await drain(gen);
    expect(log).toEqual(['upstream closed', 'close 200 ok', 'remember ""']);
  });
});

describe('replayStream', () => {
  it('replays a cached answer as the chunks of a stream, usage last', async () => {
    const chunks: ChatChunk[] = [];
    for await (const c of replayStream(chatResponse('gpt-x', 'cached', VENDOR_USAGE))) chunks.push(c);
    expect(chunks.map((c) => [c.choices[0]?.delta.content, c.choices[0]?.finish_reason, c.usage])).toEqual([
      ['', null, undefined],
      ['cached', null, undefined],
      [undefined, 'stop', undefined],
      [undefined, undefined, VENDOR_USAGE],
    ]);
  });
});
