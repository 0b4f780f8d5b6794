import type { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import { encodeInSlices, LARGE_JSON_BYTES, pacedStream } from '@app/common';
import { CallAbort } from './call-abort';
import { ConnectionGate } from './connection-gate';
import type { CallContext, PoolOptions } from './llm-adapter';
import {
  abortedError,
  incompleteStreamError,
  invalidResponseError,
  poolExhaustedError,
  ProviderError,
  streamTimeoutError,
  timeoutError,
} from './provider-error';
import { SseParser, type SseEvent } from './sse';

/**
 * Sockets per upstream origin. The Cloud Run router runs with `containerConcurrency: 1000`, and a
 * streamed completion holds its socket for the whole stream (HTTP/1.1), so the pool is sized for
 * that concurrency (`ATP_UPSTREAM_CONNECTIONS`); it was 64, which left 936 of 1000 streams
 * waiting for their first byte.
 */
export const DEFAULT_UPSTREAM_CONNECTIONS = 1024;
/** Longest wait for a free socket before the attempt fails over (`ATP_UPSTREAM_QUEUE_TIMEOUT_MS`). */
export const DEFAULT_UPSTREAM_QUEUE_TIMEOUT_MS = 1000;

/**
 * An adapter's keep-alive pool and the gate in front of it: at most `connections` exchanges run,
 * the rest wait for a socket up to the queue timeout, then fail with a retryable 503
 * (`upstream_pool_exhausted`) instead of queueing silently inside undici.
 */
export class UpstreamAgent extends Agent {
  readonly gate: ConnectionGate;

  constructor(opts: PoolOptions = {}) {
    const connections = opts.connections ?? DEFAULT_UPSTREAM_CONNECTIONS;
    super({
      connections,
      keepAliveTimeout: opts.keepAliveTimeoutMs ?? 30_000,
      headersTimeout: opts.headersTimeoutMs ?? 120_000,
      bodyTimeout: opts.bodyTimeoutMs ?? 300_000,
      connect: { timeout: opts.connectTimeoutMs ?? 10_000 },
    });
    this.gate = new ConnectionGate(connections, opts.queueTimeoutMs ?? DEFAULT_UPSTREAM_QUEUE_TIMEOUT_MS);
  }
}

export function createAgent(opts: PoolOptions = {}): UpstreamAgent {
  return new UpstreamAgent(opts);
}

export type HeaderBag = Record<string, string | string[] | undefined>;
/** Turns a non-2xx answer into the vendor's ProviderError (the mapper's `toProviderError`). */
export type ErrorMapper = (status: number, headers: HeaderBag, bodyText: string) => ProviderError;

export interface UpstreamRequest {
  url: string;
  headers: Record<string, string>;
  body: unknown;
  method?: 'POST' | 'GET';
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']);

function connectionError(provider: string, detail: string): ProviderError {
  return new ProviderError({
    provider,
    status: 502,
    retryable: true,
    code: 'upstream_connection_error',
    message: `connection to ${provider} failed: ${detail}`,
  });
}

interface RequestInit {
  method: 'POST' | 'GET';
  headers: Record<string, string>;
  body: string | Readable | undefined;
}

/**
 * Method, JSON headers and serialised body of an upstream request (what send and fetchJson send).
 * A large body (a 1 MB prompt: ~2–5 ms of stringify) is UTF-8-encoded and written in slices of
 * loop time, and so comes as a promise; every other body is sent as the string.
 */
function requestInit(req: UpstreamRequest): RequestInit | Promise<RequestInit> {
  const method = req.method ?? 'POST';
  const headers = { 'content-type': 'application/json', accept: 'application/json', ...req.headers };
  if (req.body === undefined) return { method, headers, body: undefined };
  const text = JSON.stringify(req.body);
  if (text.length < LARGE_JSON_BYTES) return { method, headers, body: text };
  return encodeInSlices(text).then((encoded) => ({
    method,
    headers: { ...headers, 'content-length': String(encoded.length) },
    body: pacedStream(encoded.chunks),
  }));
}

/**
 * One upstream HTTP exchange: the caller's AbortSignal and the timeouts abort it with a
 * ProviderError (through an AbortController for request()-based streams, the dispatch controller
 * for fetchJson), and every undici/network failure becomes a ProviderError. Always `finish()`.
 */
export class UpstreamCall {
  /** Why the exchange was aborted (client gone, timeout); null while it runs. */
  private reason: ProviderError | null = null;
  /** Only for request()-based exchanges (streams): created on first use. */
  private ctrl: CallAbort | null = null;
  /** Aborts a dispatch()-based exchange in flight. */
  private abortDispatch: ((err: Error) => void) | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly unlink: () => void;
  /** Holds one of the pool's slots (from {@link acquire} to {@link finish}). */
  private holdsSlot = false;
  /** Cancels a wait for a slot (the caller's abort or a timeout while queued). */
  private cancelWait: ((err: Error) => void) | null = null;

  constructor(
    private readonly provider: string,
    private readonly agent: UpstreamAgent,
    ctx: CallContext,
  ) {
    const onAbort = (): void => this.abort(abortedError(provider));
    if (ctx.signal.aborted) onAbort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    this.unlink = () => ctx.signal.removeEventListener('abort', onAbort);
  }

  /** Aborts the exchange after `ms` with `make()` as the error (no-op when `ms` is undefined). */
  arm(ms: number | undefined, make: () => ProviderError): void {
    this.disarm();
    if (ms !== undefined && ms > 0) this.timer = setTimeout(() => this.abort(make()), ms);
  }

  disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  finish(): void {
    this.disarm();
    this.unlink();
    if (this.holdsSlot) {
      this.holdsSlot = false;
      this.agent.gate.release();
    }
  }

  /**
   * Takes one of the pool's sockets: at once when one is free (no promise on that path), else after
   * waiting in the gate's queue; a wait past the queue timeout is a retryable `upstream_pool_exhausted`.
   */
  private acquire(): Promise<void> | undefined {
    if (this.agent.gate.tryAcquire()) {
      this.holdsSlot = true;
      return undefined;
    }
    const { granted, cancel } = this.agent.gate.wait(() => poolExhaustedError(this.provider));
    this.cancelWait = cancel;
    return granted.then(
      () => {
        this.cancelWait = null;
        this.holdsSlot = true;
        // Aborted (a timeout) in the same turn as the grant: give the slot back.
        this.throwIfAborted();
      },
      (err: unknown) => {
        this.cancelWait = null;
        throw err;
      },
    );
  }

  /**
   * undici takes any EventTarget-like signal (it checks for addEventListener): a CallAbort avoids
   * an AbortController per streamed request (EventTarget machinery, measured on the router).
   */
  private signal(): AbortSignal {
    if (!this.ctrl) {
      this.ctrl = new CallAbort();
      if (this.reason) this.ctrl.abort(this.reason);
    }
    return this.ctrl as unknown as AbortSignal;
  }

  async send(req: UpstreamRequest, mapError: ErrorMapper): Promise<Dispatcher.ResponseData> {
    this.throwIfAborted();
    await this.acquire();
    const init = await requestInit(req);
    this.throwIfAborted();
    let res: Dispatcher.ResponseData;
    try {
      res = await request(req.url, { dispatcher: this.agent, ...init, signal: this.signal() });
    } catch (err) {
      throw this.classify(err);
    }
    if (res.statusCode >= 200 && res.statusCode < 300) return res;
    const text = await res.body.text().catch(() => '');
    throw mapError(res.statusCode, res.headers, text);
  }

  /**
   * A non-streaming exchange answered with JSON: the same errors as {@link send} plus an invalid-JSON
   * ProviderError, but the body is collected from undici's dispatch callbacks instead of a body stream (no
   * Readable, no AbortSignal per call: measurably less CPU on the router's hot path).
   */
  fetchJson<T>(req: UpstreamRequest, mapError: ErrorMapper): Promise<T> {
    this.throwIfAborted();
    const waiting = this.acquire();
    const init = requestInit(req);
    if (!waiting && !(init instanceof Promise)) return this.dispatchJson<T>(req.url, init, mapError);
    return Promise.all([waiting, init]).then(([, ready]) => {
      this.throwIfAborted();
      return this.dispatchJson<T>(req.url, ready, mapError);
    });
  }

  private dispatchJson<T>(url: string, init: RequestInit, mapError: ErrorMapper): Promise<T> {
    const { origin, path } = splitUrl(url);
    return new Promise<T>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let status = 0;
      let headers: HeaderBag = {};
      let settled = false;
      const fail = (err: unknown): void => {
        if (settled) return;
        settled = true;
        this.abortDispatch = null;
        reject(this.classify(err));
      };
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart: (controller) => {
          if (this.reason) controller.abort(this.reason);
          else this.abortDispatch = (err) => controller.abort(err);
        },
        onResponseStart: (_c, statusCode, h) => {
          status = statusCode;
          headers = h as HeaderBag;
        },
        onResponseData: (_c, chunk) => {
          chunks.push(chunk);
        },
        onResponseEnd: () => {
          if (settled) return;
          settled = true;
          this.abortDispatch = null;
          const text =
            chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
          if (status < 200 || status >= 300) return reject(mapError(status, headers, text));
          try {
            resolve(JSON.parse(text) as T);
          } catch {
            reject(invalidResponseError(this.provider, 'body is not valid JSON'));
          }
        },
        onResponseError: (_c, err) => fail(err),
      };
      try {
        this.agent.dispatch({ origin, path, ...init }, handler);
      } catch (err) {
        fail(err);
      }
    });
  }

  /**
   * The response body as SSE events, in the batches that each read of the body completes (an
   * upstream that writes several events at once gives them in one batch: one await for all of
   * them, where `yield*` of each read's events cost an async step per event, ~0.4 µs each in a
   * microbenchmark). Between two reads, `idleMs` bounds the silence; time spent by the consumer
   * between batches does not count. Stops the body when the consumer stops.
   */
  async *events(res: Dispatcher.ResponseData, idleMs: number | undefined): AsyncGenerator<SseEvent[]> {
    const parser = new SseParser();
    const it = res.body[Symbol.asyncIterator]();
    try {
      for (;;) {
        this.arm(idleMs, () => streamTimeoutError(this.provider, idleMs ?? 0));
        let step: IteratorResult<Buffer>;
        try {
          step = (await it.next()) as IteratorResult<Buffer>;
        } catch (err) {
          throw this.classify(err);
        } finally {
          this.disarm();
        }
        if (step.done) break;
        const events = parser.feed(step.value);
        if (events.length) yield events;
      }
    } finally {
      // Left early (terminator seen, or the consumer stopped): let a finished response end so the
      // keep-alive socket is reused; anything still flowing after 100 ms is cut (a plain timer:
      // AbortSignal.timeout per stream cost measurably more).
      const body = res.body;
      if (!body.destroyed) {
        const cut = setTimeout(() => body.destroy(), 100);
        body
          .dump({ limit: 65_536 })
          .catch(() => {})
          .finally(() => clearTimeout(cut));
      }
    }
    if (parser.pending) throw incompleteStreamError(this.provider);
  }

  private throwIfAborted(): void {
    if (this.reason) throw this.reason;
  }

  private abort(err: ProviderError): void {
    if (this.reason) return;
    this.reason = err;
    this.cancelWait?.(err);
    this.ctrl?.abort(err);
    this.abortDispatch?.(err);
  }

  private classify(err: unknown): ProviderError {
    if (err instanceof ProviderError) return err;
    if (this.reason) return this.reason;
    const e = err as { code?: string; message?: string; cause?: { code?: string } };
    const code = e?.code ?? e?.cause?.code ?? '';
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
      return timeoutError(this.provider, code === 'UND_ERR_CONNECT_TIMEOUT' ? 'connect' : 'headers');
    }
    if (code === 'UND_ERR_BODY_TIMEOUT') return streamTimeoutError(this.provider, 0);
    if (code === 'UND_ERR_SOCKET' || code.startsWith('UND_ERR_') || NETWORK_CODES.has(code)) {
      return connectionError(this.provider, code);
    }
    return connectionError(this.provider, e?.message ?? 'unknown error');
  }
}

/**
 * One non-streaming call under the attempt's timeout (`ctx.timeoutMs`, a `request` timeout
 * error): the parsed JSON answer, or a ProviderError. What every adapter's chat and embed do.
 */
export async function fetchJsonOnce<T>(
  provider: string,
  agent: UpstreamAgent,
  ctx: CallContext,
  req: UpstreamRequest,
  mapError: ErrorMapper,
): Promise<T> {
  const call = new UpstreamCall(provider, agent, ctx);
  try {
    call.arm(ctx.timeoutMs, () => timeoutError(provider, 'request'));
    return await call.fetchJson<T>(req, mapError);
  } finally {
    call.finish();
  }
}

/** The smaller of two optional timeouts. */
export function minTimeout(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/** `http://host:port/a/b?q` → origin `http://host:port`, path `/a/b?q` (what dispatch() takes). */
export function splitUrl(url: string): { origin: string; path: string } {
  const scheme = url.indexOf('://');
  const slash = scheme === -1 ? -1 : url.indexOf('/', scheme + 3);
  if (scheme === -1) throw new Error(`not an absolute URL: ${url}`);
  return slash === -1 ? { origin: url, path: '/' } : { origin: url.slice(0, slash), path: url.slice(slash) };
}

export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + path;
}

/** `chatcmpl-…` ids for vendors that have none in OpenAI's format. */
export function newCompletionId(): string {
  return 'chatcmpl-' + globalThis.crypto.randomUUID().replace(/-/g, '').slice(0, 24);
}
