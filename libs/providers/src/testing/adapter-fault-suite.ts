import type { LlmAdapter } from '../llm-adapter';
import type { ChatChunk, ChatRequest } from '../openai-types';
import { ProviderError } from '../provider-error';
import type { FakeUpstream } from './fake-upstreams';

/** Drains a stream: the chunks delivered, and the error that ended it (if any). */
export async function collectStream(
  stream: AsyncIterable<ChatChunk>,
): Promise<{ chunks: ChatChunk[]; error?: unknown }> {
  const chunks: ChatChunk[] = [];
  try {
    for await (const c of stream) chunks.push(c);
    return { chunks };
  } catch (error) {
    return { chunks, error };
  }
}

/** Awaits a promise expected to fail with a ProviderError and returns it. */
export async function expectProviderError(p: Promise<unknown>): Promise<ProviderError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ProviderError);
  return caught as ProviderError;
}

export function streamedText(chunks: ChatChunk[]): string {
  return chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
}

const ctx = (extra: { timeoutMs?: number; ttftTimeoutMs?: number } = {}) => ({
  signal: new AbortController().signal,
  ...extra,
});

export interface FaultSuiteOptions {
  provider: string;
  getUpstream: () => FakeUpstream;
  getAdapter: () => LlmAdapter;
  request: ChatRequest;
  /** The vendor's overload status (Anthropic 529, others 503). */
  overloadStatus: number;
}

/**
 * The failure matrix every HTTP adapter must pass against the fake upstream: each fault yields
 * the documented ProviderError, quickly (bounded timeouts), and streams keep what came before.
 */
export function describeAdapterFaults(o: FaultSuiteOptions): void {
  const up = () => o.getUpstream();
  const chat = (extra?: { timeoutMs?: number }) => o.getAdapter().chat(o.request, ctx(extra));
  const stream = (extra?: { timeoutMs?: number; ttftTimeoutMs?: number }) =>
    collectStream(o.getAdapter().stream({ ...o.request, stream: true }, ctx(extra)));

  describe(`${o.provider} faults`, () => {
    it('a consumer that stops early releases the upstream; the next call works', async () => {
      up().enqueue({ text: 'a b c d e f g h', chunkDelayMs: 50 });
      for await (const c of o.getAdapter().stream({ ...o.request, stream: true }, ctx())) {
        if (c.choices[0]?.delta.content) break;
      }
      await new Promise((r) => setTimeout(r, 200));
      expect(up().requests[0].closedEarly).toBe(true);
      await expect(chat()).resolves.toMatchObject({ object: 'chat.completion' });
    });

    it('a failed answer is consumed; the pool keeps serving', async () => {
      up().enqueue({ fault: { type: 'status', status: 500 } });
      await expectProviderError(chat());
      await expect(chat()).resolves.toMatchObject({ object: 'chat.completion' });
    });

    it('429 with Retry-After → retryable with the delay', async () => {
      up().enqueue({ fault: { type: 'status', status: 429, retryAfter: '3' } });
      const err = await expectProviderError(chat());
      expect(err).toMatchObject({
        provider: o.provider,
        status: 429,
        retryable: true,
        code: 'upstream_rate_limited',
        retryAfterMs: 3000,
      });
    });

    it('500 → retryable server error (stream too)', async () => {
      up().enqueue({ fault: { type: 'status', status: 500 } }, { fault: { type: 'status', status: 500 } });
      expect(await expectProviderError(chat())).toMatchObject({
        status: 500,
        retryable: true,
        code: 'upstream_server_error',
      });
      const { chunks, error } = await stream();
      expect(chunks).toEqual([]);
      expect(error).toMatchObject({ status: 500, retryable: true, code: 'upstream_server_error' });
    });

    it(`${o.overloadStatus} → retryable overloaded`, async () => {
      up().enqueue({ fault: { type: 'status', status: o.overloadStatus } });
      const err = await expectProviderError(chat());
      expect(err).toMatchObject({ status: o.overloadStatus, retryable: true, code: 'upstream_overloaded' });
    });

    it.each([
      [400, 'upstream_bad_request'],
      [401, 'upstream_auth_failed'],
      [403, 'upstream_auth_failed'],
      [404, 'upstream_not_found'],
    ])('%i → not retryable (%s)', async (status, code) => {
      up().enqueue({ fault: { type: 'status', status: status as number } });
      const err = await expectProviderError(chat());
      expect(err).toMatchObject({ status, retryable: false, code });
      expect(err.message).toContain('fake upstream error');
    });

    it('timeout before headers → upstream_timeout, bounded', async () => {
      up().enqueue({ fault: { type: 'stall-before-headers' } }, { fault: { type: 'stall-before-headers' } });
      const started = Date.now();
      expect(await expectProviderError(chat({ timeoutMs: 300 }))).toMatchObject({
        code: 'upstream_timeout',
        status: 504,
        retryable: true,
      });
      const { error } = await stream({ ttftTimeoutMs: 300 });
      expect(error).toMatchObject({ code: 'upstream_timeout', retryable: true });
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    it('stall mid-stream → upstream_stream_timeout after the chunks already received', async () => {
      up().enqueue({ fault: { type: 'stall-mid-stream', afterChunks: 2 } });
      const started = Date.now();
      const { chunks, error } = await stream({ ttftTimeoutMs: 300 });
      expect(error).toMatchObject({ code: 'upstream_stream_timeout', retryable: true });
      expect(chunks.length).toBeGreaterThanOrEqual(1);
      expect((error as ProviderError).partialUsage).toMatchObject({ estimated: true });
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    it('stall mid-body of a JSON answer → bounded by timeoutMs', async () => {
      up().enqueue({ fault: { type: 'stall-mid-stream' } });
      expect(await expectProviderError(chat({ timeoutMs: 300 }))).toMatchObject({ code: 'upstream_timeout' });
    });

    it('connection reset → upstream_connection_error (before headers and mid-stream)', async () => {
      up().enqueue({ fault: { type: 'reset' } }, { fault: { type: 'reset-mid-stream', afterChunks: 2 } });
      expect(await expectProviderError(chat())).toMatchObject({
        code: 'upstream_connection_error',
        status: 502,
        retryable: true,
      });
      const { chunks, error } = await stream({ ttftTimeoutMs: 2_000 });
      expect(error).toMatchObject({ code: 'upstream_connection_error' });
      expect(chunks.length).toBeGreaterThanOrEqual(1);
    });

    it('malformed JSON → upstream_invalid_response (JSON answer and stream event)', async () => {
      up().enqueue(
        { fault: { type: 'malformed-json' } },
        { fault: { type: 'malformed-json', afterChunks: 2 } },
      );
      expect(await expectProviderError(chat())).toMatchObject({
        code: 'upstream_invalid_response',
        status: 502,
      });
      const { chunks, error } = await stream();
      expect(error).toMatchObject({ code: 'upstream_invalid_response' });
      expect(chunks.length).toBeGreaterThanOrEqual(1);
    });

    it('SSE stream cut without its terminator → upstream_stream_incomplete, partial chunks delivered', async () => {
      up().enqueue({ text: 'one two three four five six', fault: { type: 'cut-stream', afterChunks: 4 } });
      const { chunks, error } = await stream();
      expect(error).toMatchObject({ code: 'upstream_stream_incomplete', status: 502, retryable: true });
      expect(streamedText(chunks).length).toBeGreaterThan(0);
      expect(chunks.some((c) => c.usage)).toBe(false);
      const partial = (error as ProviderError).partialUsage;
      expect(partial?.estimated).toBe(true);
      expect(partial?.completion_tokens).toBeGreaterThan(0);
    });

    it('error event inside the stream → upstream_stream_error after the earlier chunks', async () => {
      up().enqueue({ fault: { type: 'error-event', afterChunks: 3 } });
      const { chunks, error } = await stream();
      expect(error).toMatchObject({ code: 'upstream_stream_error', retryable: true });
      expect(chunks.length).toBeGreaterThanOrEqual(1);
    });

    it('client abort mid-stream aborts the upstream request → client_aborted, no hang', async () => {
      up().enqueue({ text: 'a b c d e f g h', chunkDelayMs: 100 });
      const ctrl = new AbortController();
      const chunks: ChatChunk[] = [];
      let error: unknown;
      try {
        for await (const c of o
          .getAdapter()
          .stream({ ...o.request, stream: true }, { signal: ctrl.signal })) {
          chunks.push(c);
          if (chunks.length === 2) ctrl.abort();
        }
      } catch (err) {
        error = err;
      }
      expect(error).toMatchObject({ code: 'client_aborted', retryable: false });
      expect(chunks).toHaveLength(2);
      // the upstream saw its connection go away before the reply was complete
      await new Promise((r) => setTimeout(r, 50));
      expect(up().requests[up().requests.length - 1].closedEarly).toBe(true);
    });

    it('an already-aborted signal never reaches the upstream', async () => {
      const before = up().requests.length;
      const ctrl = new AbortController();
      ctrl.abort();
      const err = await expectProviderError(o.getAdapter().chat(o.request, { signal: ctrl.signal }));
      expect(err.code).toBe('client_aborted');
      expect(up().requests.length).toBe(before);
    });
  });
}
