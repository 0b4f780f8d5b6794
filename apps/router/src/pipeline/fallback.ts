import { AtpError } from '@app/common';
import { type AbortLike, ProviderError } from '@app/providers';
import type { CatalogModel } from '../routing/catalog';

export interface AttemptPolicy {
  /** Retries of the same candidate on a retryable failure before falling back. */
  retriesPerCandidate: number;
  /** Timeout of one attempt (to the full response; for streams, to the first chunk). */
  attemptTimeoutMs: number;
  /** The whole request, all attempts and backoff included. */
  deadlineMs: number;
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** A Retry-After longer than this skips straight to the next candidate. */
  maxRetryAfterMs: number;
}

export const DEFAULT_POLICY: AttemptPolicy = {
  retriesPerCandidate: 1,
  attemptTimeoutMs: 60_000,
  deadlineMs: 120_000,
  baseBackoffMs: 100,
  maxBackoffMs: 2000,
  maxRetryAfterMs: 5000,
};

export interface AttemptHooks {
  onSuccess(model: CatalogModel, latencyMs: number): void;
  onFailure(model: CatalogModel, err: ProviderError, latencyMs: number): void;
  onFallback(from: CatalogModel, to: CatalogModel): void;
}

export interface AttemptOutcome<T> {
  result: T;
  model: CatalogModel;
  attempts: number;
}

const TIMEOUT_CODES = new Set(['upstream_timeout', 'upstream_stream_timeout']);

/**
 * Exponential backoff (base × 2^retry, capped at max) with jitter over its upper half: at least
 * half the step, so retries of many calls spread out without any coming at once; never shorter
 * than the upstream's Retry-After.
 */
export function backoffMs(
  policy: AttemptPolicy,
  retry: number,
  retryAfterMs: number | undefined,
  rand: () => number = Math.random,
): number {
  const exp = Math.min(policy.maxBackoffMs, policy.baseBackoffMs * 2 ** retry);
  const jittered = exp / 2 + rand() * (exp / 2);
  return Math.max(retryAfterMs ?? 0, jittered);
}

/** Waits `ms`; rejects with the signal's reason as soon as it aborts (the client went away). */
export function sleepUnlessAborted(ms: number, signal: AbortLike): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Time and chance as the fallback loop sees them: the real ones in production, fakes in specs. */
export interface FallbackClock {
  now(): number;
  /** Waits `ms`, or rejects with the signal's reason once it aborts. */
  sleep(ms: number, signal: AbortLike): Promise<void>;
  /** A number in [0, 1), as Math.random. */
  random(): number;
}

export const SYSTEM_CLOCK: FallbackClock = {
  now: () => Date.now(),
  sleep: sleepUnlessAborted,
  random: () => Math.random(),
};

/** An upstream 4xx that blames the request itself (answered as a 400; it says nothing of the model's health). */
export function isClientFault(err: ProviderError): boolean {
  return err.code === 'upstream_bad_request';
}

/**
 * Tries candidates in order: retryable failures are retried on the same candidate (with
 * backoff, honouring Retry-After), then the next candidate is tried; a request the upstream
 * rejects as malformed is returned to the client as a 400; everything failing is a 502 (504
 * when the last failure was a timeout). `clock` gives the time, the waits and the jitter.
 */
export async function runWithFallback<T>(
  candidates: CatalogModel[],
  policy: AttemptPolicy,
  signal: AbortLike,
  call: (model: CatalogModel, timeoutMs: number) => Promise<T>,
  hooks: AttemptHooks,
  clock: FallbackClock = SYSTEM_CLOCK,
): Promise<AttemptOutcome<T>> {
  const deadline = clock.now() + policy.deadlineMs;
  let attempts = 0;
  let last: ProviderError | null = null;
  for (const [index, model] of candidates.entries()) {
    // Past the deadline no candidate is tried, so none is counted as a fallback either.
    if (clock.now() >= deadline) break;
    if (index > 0) hooks.onFallback(candidates[index - 1], model);
    for (let retry = 0; retry <= policy.retriesPerCandidate; retry++) {
      const remaining = deadline - clock.now();
      if (remaining <= 0) break;
      attempts++;
      const started = clock.now();
      try {
        const result = await call(model, Math.min(policy.attemptTimeoutMs, remaining));
        hooks.onSuccess(model, clock.now() - started);
        return { result, model, attempts };
      } catch (err) {
        if (signal.aborted) throw err;
        if (!(err instanceof ProviderError)) throw err;
        if (err.code === 'client_aborted') throw err;
        // A busy local pool says nothing about the upstream's health: not a failure of the model.
        if (err.code !== 'upstream_pool_exhausted') hooks.onFailure(model, err, clock.now() - started);
        last = err;
        if (isClientFault(err)) {
          throw new AtpError(
            400,
            'upstream_rejected_request',
            `${model.provider} rejected the request: ${err.message}`,
            {
              headers: { 'x-atp-attempts': String(attempts) },
            },
          );
        }
        if (!err.retryable || retry === policy.retriesPerCandidate) break;
        if ((err.retryAfterMs ?? 0) > policy.maxRetryAfterMs) break;
        const wait = backoffMs(policy, retry, err.retryAfterMs, () => clock.random());
        if (clock.now() + wait >= deadline) break;
        await clock.sleep(wait, signal);
      }
    }
  }
  if (last?.code === 'upstream_pool_exhausted') {
    throw new AtpError(503, 'upstream_pool_exhausted', `All providers failed (last: ${last.message})`, {
      headers: { 'x-atp-attempts': String(attempts), 'retry-after': '1' },
    });
  }
  const timedOut = last ? TIMEOUT_CODES.has(last.code) : true;
  const status = timedOut ? 504 : 502;
  const what = last ? `${last.provider}: ${last.message}` : 'the request deadline passed';
  throw new AtpError(
    status,
    timedOut ? 'upstream_timeout' : 'upstream_error',
    `All providers failed (last: ${what})`,
    {
      headers: { 'x-atp-attempts': String(attempts) },
    },
  );
}

/** How many attempts a failed runWithFallback made (its error's x-atp-attempts; 1 for any other error). */
export function attemptsOf(err: unknown): number {
  return Number((err as AtpError).headers?.['x-atp-attempts'] ?? 1);
}

/** The attempt policy from the router's env (timeouts, deadline, retries). */
export function policyFromEnv(env: {
  ATP_UPSTREAM_TIMEOUT_MS: number;
  ATP_REQUEST_DEADLINE_MS: number;
  ATP_RETRIES_PER_CANDIDATE: number;
}): AttemptPolicy {
  return {
    ...DEFAULT_POLICY,
    attemptTimeoutMs: env.ATP_UPSTREAM_TIMEOUT_MS,
    deadlineMs: Math.max(env.ATP_REQUEST_DEADLINE_MS, env.ATP_UPSTREAM_TIMEOUT_MS),
    retriesPerCandidate: env.ATP_RETRIES_PER_CANDIDATE,
  };
}
