import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { applyPiiToJson } from '../json';
import { applyPii } from '../operators';
import { PiiError, type PiiErrorCode } from '../pii.errors';
import type { ApplyOptions, PiiJsonResult, PiiMode, PiiResult } from '../pii.types';
import { type EntitiesAs, type PiiJob, type PiiJobReply, shapeEntities } from './pii-job';

/**
 * Below this many UTF-16 code units (summed over a JSON value's strings) a job runs inline: it
 * costs at most ~4 ms of loop time at the measured 0.15–0.25 s per MiB, about what a round trip
 * to a worker (structured clone both ways, a queue hop) costs for texts of a few KiB.
 */
export const PII_INLINE_BELOW_CHARS = 16 * 1024;

export interface PiiPoolOptions {
  /** Worker threads; 0 runs every job inline on the caller's event loop. */
  size: number;
  /** Jobs that may wait for a busy worker; one more is refused with {@link PiiPoolBusyError}. Default 8 per worker. */
  maxQueue?: number;
  /** Jobs smaller than this run inline. Default {@link PII_INLINE_BELOW_CHARS}. */
  inlineBelowChars?: number;
}

/** Every worker busy and the queue full: the caller should answer 503 with Retry-After. */
export class PiiPoolBusyError extends Error {
  constructor(readonly queued: number) {
    super(`PII workers are busy (${queued} jobs waiting)`);
    this.name = 'PiiPoolBusyError';
  }
}

interface Pending {
  job: PiiJob;
  resolve: (value: PiiResult | PiiJsonResult) => void;
  reject: (err: unknown) => void;
}

/**
 * Runs PII detection of large texts and values on worker threads (node:worker_threads), so a
 * megabyte of text (0.2–0.7 s of regex work) never blocks the event loop that answers /health
 * and every other request. Small jobs stay inline (a worker round trip would cost more than the
 * work). Workers start on first use, are unref'd (an idle pool never keeps the process alive),
 * and a crashed worker is replaced; its job fails.
 */
export class PiiPool {
  private readonly size: number;
  private readonly maxQueue: number;
  private readonly inlineBelow: number;
  private readonly idle: Worker[] = [];
  private readonly running = new Map<Worker, Pending>();
  private readonly queue: Pending[] = [];
  private workers = 0;
  private nextId = 1;
  private closed = false;

  constructor(options: PiiPoolOptions) {
    this.size = Math.max(0, Math.floor(options.size));
    this.maxQueue = options.maxQueue ?? this.size * 8;
    this.inlineBelow = options.inlineBelowChars ?? PII_INLINE_BELOW_CHARS;
  }

  /**
   * {@link applyPii} on a worker when the text is large; same result, same errors. `entities`
   * says how findings come back ({@link EntitiesAs}).
   */
  async apply(
    text: string,
    mode: PiiMode,
    options: ApplyOptions = {},
    entities: EntitiesAs = 'objects',
  ): Promise<PiiResult> {
    if (this.inline(mode) || text.length < this.inlineBelow) {
      return shapeEntities(applyPii(text, mode, options), entities, mode);
    }
    return (await this.submit({ op: 'text', input: text, mode, options, entities })) as PiiResult;
  }

  /** {@link applyPiiToJson} on a worker when the value's strings are large; same result, same errors. */
  async applyJson(
    value: unknown,
    mode: PiiMode,
    options: ApplyOptions = {},
    entities: EntitiesAs = 'objects',
  ): Promise<PiiJsonResult> {
    if (this.inline(mode) || stringChars(value, this.inlineBelow) < this.inlineBelow) {
      return shapeEntities(applyPiiToJson(value, mode, options), entities, mode);
    }
    return (await this.submit({ op: 'json', input: value, mode, options, entities })) as PiiJsonResult;
  }

  /** Stops every worker; jobs still queued or running fail. Later jobs run inline. */
  async close(): Promise<void> {
    this.closed = true;
    const stopped = new Error('PII pool closed');
    for (const p of this.queue.splice(0)) p.reject(stopped);
    const workers = [...this.idle.splice(0), ...this.running.keys()];
    for (const p of this.running.values()) p.reject(stopped);
    this.running.clear();
    await Promise.all(workers.map((w) => w.terminate()));
    this.workers = 0;
  }

  private inline(mode: PiiMode): boolean {
    return this.size === 0 || this.closed || mode === 'off';
  }

  private submit(params: Omit<PiiJob, 'id'>): Promise<unknown> {
    if (this.idle.length === 0 && this.workers >= this.size && this.queue.length >= this.maxQueue) {
      return Promise.reject(new PiiPoolBusyError(this.queue.length));
    }
    const job: PiiJob = { id: this.nextId++, ...params };
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const worker = this.idle.pop() ?? (this.workers < this.size ? this.spawn() : undefined);
      if (!worker) return;
      const pending = this.queue.shift()!;
      this.running.set(worker, pending);
      worker.postMessage(pending.job);
    }
  }

  private spawn(): Worker {
    const worker = startWorker();
    this.workers++;
    worker.unref();
    worker.on('message', (reply: PiiJobReply) => {
      const pending = this.running.get(worker);
      this.running.delete(worker);
      if (!this.closed) this.idle.push(worker);
      if (pending) settle(pending, reply);
      this.pump();
    });
    // A worker that throws outside a job (or runs out of memory) is gone: fail its job, replace it.
    const lost = (err: unknown): void => {
      const pending = this.running.get(worker);
      if (!this.running.delete(worker) && !removeFrom(this.idle, worker)) return;
      this.workers--;
      pending?.reject(err);
      if (!this.closed) this.pump();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`PII worker exited with code ${code}`)));
    return worker;
  }
}

function settle(pending: Pending, reply: PiiJobReply): void {
  if (reply.result) return pending.resolve(reply.result);
  const e = reply.error ?? { name: 'Error', message: 'PII worker answered nothing' };
  // PiiError keeps its class and code across the thread: callers map codes to 4xx.
  if (e.name === 'PiiError' && e.code) return pending.reject(new PiiError(e.code as PiiErrorCode, e.message));
  pending.reject(new Error(e.message));
}

function removeFrom(list: Worker[], worker: Worker): boolean {
  const i = list.indexOf(worker);
  if (i >= 0) list.splice(i, 1);
  return i >= 0;
}

/** Characters in a JSON value's strings, counted up to `limit` (enough to decide inline or not). */
function stringChars(value: unknown, limit: number): number {
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && total < limit) {
    const v = stack.pop();
    if (typeof v === 'string') total += v.length;
    else if (v !== null && typeof v === 'object') {
      for (const item of Array.isArray(v) ? v : Object.values(v)) stack.push(item);
    }
  }
  return total;
}

let builtWorker: string | null | undefined;

/**
 * The built bundle has `pii.worker.js` beside `main.js` (a second webpack entry, webpack.config.js).
 * From TypeScript sources (jest) there is no such file: a small bootstrap compiles the worker and
 * its relative imports on the fly with @swc/core, the compiler jest itself uses.
 */
function startWorker(): Worker {
  builtWorker ??= existsSync(join(__dirname, 'pii.worker.js')) ? join(__dirname, 'pii.worker.js') : null;
  if (builtWorker) return new Worker(builtWorker);
  return new Worker(TS_BOOTSTRAP, { eval: true, workerData: { source: join(__dirname, 'pii.worker.ts') } });
}

const TS_BOOTSTRAP = `
const { readFileSync } = require('node:fs');
const Module = require('node:module');
const { workerData } = require('node:worker_threads');
const { transformSync } = require('@swc/core');
Module._extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
require(workerData.source);
`;
