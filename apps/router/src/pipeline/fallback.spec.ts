import { type AbortLike, CallAbort, ProviderError, type ProviderErrorCode } from '@app/providers';
import type { CatalogModel } from '../routing/catalog';
import {
  type AttemptPolicy,
  backoffMs,
  DEFAULT_POLICY,
  type FallbackClock,
  runWithFallback,
  sleepUnlessAborted,
} from './fallback';
import { catalogModel, rejection } from './pipeline.fakes';

/** A clock that only moves when told to: attempts take `latency`, sleeps take what they ask. */
class FakeClock implements FallbackClock {
  t = 1_000_000;
  constructor(
    private readonly log: string[],
    public rand = 0,
  ) {}
  now(): number {
    return this.t;
  }
  async sleep(ms: number, signal: AbortLike): Promise<void> {
    this.log.push(`sleep ${ms}`);
    if (signal.aborted) throw signal.reason;
    this.t += ms;
  }
  random(): number {
    return this.rand;
  }
}

/** What one attempt does: take some time, then fail with `error` or answer. */
interface Step {
  latency?: number;
  error?: ProviderError;
  /** The client goes away during this attempt (its adapter then fails with client_aborted). */
  clientLeaves?: boolean;
}

function providerError(
  code: ProviderErrorCode,
  opts: { retryable?: boolean; retryAfterMs?: number; status?: number } = {},
): ProviderError {
  return new ProviderError({
    provider: 'openai',
    status: opts.status ?? 503,
    retryable: opts.retryable ?? true,
    code,
    message: `${code} happened`,
    retryAfterMs: opts.retryAfterMs,
  });
}

const a = catalogModel({ id: 'a' });
const b = catalogModel({ id: 'b' });

/**
 * Runs the loop over `candidates` with scripted attempts, recording every call, hook and sleep in
 * one log (in the order they happened).
 */
function run(
  steps: Step[],
  opts: { policy?: Partial<AttemptPolicy>; candidates?: CatalogModel[]; rand?: number } = {},
) {
  const log: string[] = [];
  const clock = new FakeClock(log, opts.rand ?? 0);
  const signal = new CallAbort();
  const policy = { ...DEFAULT_POLICY, ...opts.policy };
  const promise = runWithFallback(
    opts.candidates ?? [a, b],
    policy,
    signal,
    async (model, timeoutMs) => {
      log.push(`call ${model.id} ${timeoutMs}`);
      const step = steps.shift() ?? {};
      clock.t += step.latency ?? 0;
      if (step.clientLeaves) {
        signal.abort(new Error('client gone'));
        throw providerError('client_aborted', { retryable: false, status: 499 });
      }
      if (step.error) throw step.error;
      return `answer of ${model.id}`;
    },
    {
      onSuccess: (model, ms) => log.push(`success ${model.id} ${ms}`),
      onFailure: (model, err, ms) => log.push(`failure ${model.id} ${err.code} ${ms}`),
      onFallback: (from, to) => log.push(`fallback ${from.id}→${to.id}`),
    },
    clock,
  );
  return { promise, log, clock, signal };
}

/** A failed run's status, code and x-atp-attempts. */
async function failure(promise: Promise<unknown>) {
  const e = await rejection(promise);
  return { status: e.status, code: e.code, attempts: e.headers['x-atp-attempts'], headers: e.headers };
}

const serverError = () => providerError('upstream_server_error');

describe('backoffMs', () => {
  const policy = { ...DEFAULT_POLICY, baseBackoffMs: 100, maxBackoffMs: 2000 };
  const retries = [0, 1, 2, 3, 4, 5, 6];

  it('doubles per retry up to the cap, jittered between half the step and the whole step', () => {
    expect(retries.map((r) => backoffMs(policy, r, undefined, () => 0))).toEqual([
      50, 100, 200, 400, 800, 1000, 1000,
    ]);
    expect(retries.map((r) => backoffMs(policy, r, undefined, () => 0.5))).toEqual([
      75, 150, 300, 600, 1200, 1500, 1500,
    ]);
    // random() < 1: the wait stays below the full step
    expect(retries.map((r) => backoffMs(policy, r, undefined, () => 0.999))).toEqual([
      99.95, 199.9, 399.8, 799.6, 1599.2, 1999, 1999,
    ]);
  });

  it('never waits less than the upstream Retry-After', () => {
    expect(backoffMs(policy, 0, 3000, () => 0.5)).toBe(3000);
    expect(backoffMs(policy, 3, 10, () => 0.5)).toBe(600);
  });
});

describe('sleepUnlessAborted', () => {
  it('rejects with the reason at once when the signal is already aborted, or aborts later', async () => {
    const gone = new CallAbort();
    gone.abort(new Error('gone before'));
    await expect(sleepUnlessAborted(60_000, gone)).rejects.toThrow('gone before');
    const later = new CallAbort();
    const waiting = sleepUnlessAborted(60_000, later);
    later.abort(new Error('gone during'));
    await expect(waiting).rejects.toThrow('gone during');
  });

  it('resolves after the wait', async () => {
    await expect(sleepUnlessAborted(1, new CallAbort())).resolves.toBeUndefined();
  });
});

describe('runWithFallback', () => {
  it('answers from the first candidate that succeeds, counting its latency on the clock', async () => {
    const { promise, log } = run([{ latency: 30 }]);
    await expect(promise).resolves.toEqual({ result: 'answer of a', model: a, attempts: 1 });
    expect(log).toEqual(['call a 60000', 'success a 30']);
  });

  it('retries a candidate retriesPerCandidate times with growing backoff, then falls back', async () => {
    const { promise, log } = run(
      [{ error: serverError() }, { error: serverError() }, { error: serverError() }, {}],
      { policy: { retriesPerCandidate: 2 } },
    );
    await expect(promise).resolves.toEqual({ result: 'answer of b', model: b, attempts: 4 });
    expect(log).toEqual([
      'call a 60000',
      'failure a upstream_server_error 0',
      'sleep 50',
      'call a 60000',
      'failure a upstream_server_error 0',
      'sleep 100',
      'call a 60000',
      'failure a upstream_server_error 0',
      'fallback a→b',
      'call b 60000',
      'success b 0',
    ]);
  });

  it('the jitter comes from the injected random source', async () => {
    const { promise, log } = run([{ error: serverError() }, {}], { rand: 0.5 });
    await promise;
    expect(log).toContain('sleep 75');
  });

  it.each([
    ['a failure that is not retryable', providerError('upstream_auth_failed', { retryable: false })],
    ['a Retry-After over maxRetryAfterMs', providerError('upstream_rate_limited', { retryAfterMs: 5001 })],
  ])('%s falls back at once, without a retry or a wait', async (_what, error) => {
    const { promise, log } = run([{ error }, {}]);
    await expect(promise).resolves.toMatchObject({ model: b, attempts: 2 });
    expect(log).toEqual([
      'call a 60000',
      `failure a ${error.code} 0`,
      'fallback a→b',
      'call b 60000',
      'success b 0',
    ]);
  });

  it('honours Retry-After when it is longer than the backoff', async () => {
    const { promise, log } = run([
      { error: providerError('upstream_rate_limited', { retryAfterMs: 3000 }) },
      {},
    ]);
    await expect(promise).resolves.toMatchObject({ model: a, attempts: 2 });
    // the 3000 ms asked for, not the 50 ms backoff
    expect(log.filter((l) => l.startsWith('sleep'))).toEqual(['sleep 3000']);
    expect(log.at(-1)).toBe('success a 0');
  });

  it('each attempt gets the time left before the deadline; a wait that would pass it is skipped', async () => {
    // 1000 ms in all: a takes 400 and fails, the 50 ms backoff fits, a takes 500 and fails;
    // its 100 ms backoff would pass the deadline, so b is tried at once with the 50 ms left.
    const { promise, log } = run(
      [{ latency: 400, error: serverError() }, { latency: 500, error: serverError() }, { latency: 20 }],
      { policy: { deadlineMs: 1000, attemptTimeoutMs: 800, retriesPerCandidate: 2 } },
    );
    await expect(promise).resolves.toMatchObject({ model: b, attempts: 3 });
    expect(log).toEqual([
      'call a 800',
      'failure a upstream_server_error 400',
      'sleep 50',
      'call a 550',
      'failure a upstream_server_error 500',
      'fallback a→b',
      'call b 50',
      'success b 20',
    ]);
  });

  it('the deadline stops all attempts: no further candidate is tried or counted as a fallback', async () => {
    const { promise, log } = run([{ latency: 1000, error: serverError() }], {
      policy: { deadlineMs: 1000 },
      candidates: [a, b, catalogModel({ id: 'c' })],
    });
    expect(await failure(promise)).toMatchObject({ status: 502, code: 'upstream_error', attempts: '1' });
    expect(log).toEqual(['call a 1000', 'failure a upstream_server_error 1000']);
  });

  it('no time at all: 504 without an attempt', async () => {
    const { promise, log } = run([], { policy: { deadlineMs: 0 } });
    expect(await failure(promise)).toMatchObject({ status: 504, code: 'upstream_timeout', attempts: '0' });
    expect(log).toEqual([]);
  });

  it('everything failing is a 502, or a 504 when the last failure was a timeout', async () => {
    const policy = { retriesPerCandidate: 0 };
    const timeout = providerError('upstream_timeout', { status: 504 });
    const lastTimedOut = run([{ error: serverError() }, { error: timeout }], { policy });
    expect(await failure(lastTimedOut.promise)).toMatchObject({
      status: 504,
      code: 'upstream_timeout',
      attempts: '2',
    });
    const streamTimeout = providerError('upstream_stream_timeout', { status: 504 });
    expect(
      await failure(run([{ error: serverError() }, { error: streamTimeout }], { policy }).promise),
    ).toMatchObject({ status: 504 });
    const lastFailed = run([{ error: timeout }, { error: serverError() }], { policy });
    expect(await failure(lastFailed.promise)).toMatchObject({
      status: 502,
      code: 'upstream_error',
      attempts: '2',
    });
  });

  it('an upstream 4xx blaming the request is a 400 at once: no retry, no fallback', async () => {
    const { promise, log } = run([
      { error: providerError('upstream_bad_request', { status: 400, retryable: false }) },
    ]);
    const err = await rejection(promise);
    expect([err.status, err.code, err.message, err.headers]).toEqual([
      400,
      'upstream_rejected_request',
      'openai rejected the request: upstream_bad_request happened',
      { 'x-atp-attempts': '1' },
    ]);
    expect(log).toEqual(['call a 60000', 'failure a upstream_bad_request 0']);
  });

  it('an exhausted local pool is a 503 with Retry-After and is not counted as a model failure', async () => {
    const exhausted = () => providerError('upstream_pool_exhausted');
    const { promise, log } = run([{ error: exhausted() }, { error: exhausted() }], {
      policy: { retriesPerCandidate: 0 },
    });
    expect(await failure(promise)).toEqual({
      status: 503,
      code: 'upstream_pool_exhausted',
      attempts: '2',
      headers: { 'x-atp-attempts': '2', 'retry-after': '1' },
    });
    expect(log).toEqual(['call a 60000', 'fallback a→b', 'call b 60000']);
  });

  it('the client leaving during an attempt stops everything, with no failure recorded', async () => {
    const { promise, log } = run([{ clientLeaves: true }, {}]);
    await expect(promise).rejects.toMatchObject({ code: 'client_aborted' });
    expect(log).toEqual(['call a 60000']);
  });

  it('the client leaving during a backoff stops everything: no further attempt', async () => {
    const { promise, log, clock, signal } = run([{ error: serverError() }, {}]);
    clock.sleep = async (ms) => {
      log.push(`sleep ${ms}`);
      signal.abort(new Error('client gone'));
      throw signal.reason;
    };
    await expect(promise).rejects.toThrow('client gone');
    expect(log).toEqual(['call a 60000', 'failure a upstream_server_error 0', 'sleep 50']);
  });

  it('an error that is not a ProviderError is thrown as it is, without a fallback', async () => {
    const log: string[] = [];
    const bug = new TypeError('a bug');
    const promise = runWithFallback(
      [a, b],
      DEFAULT_POLICY,
      new CallAbort(),
      async (model) => {
        log.push(`call ${model.id}`);
        throw bug;
      },
      {
        onSuccess: () => log.push('success'),
        onFailure: () => log.push('failure'),
        onFallback: () => log.push('fallback'),
      },
      new FakeClock(log),
    );
    await expect(promise).rejects.toBe(bug);
    expect(log).toEqual(['call a']);
  });
});
