/**
 * The worker side of {@link PiiPool}: runs one PII job at a time off the main event loop.
 * Built as its own webpack entry (`dist/apps/<app>/pii.worker.js`, see webpack.config.js); from
 * TypeScript sources (jest) the pool loads it through a small compile-on-the-fly bootstrap.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { applyPiiToJson } from '../json';
import { applyPii } from '../operators';
import type { ApplyOptions } from '../pii.types';
import { type PiiJob, type PiiJobReply, shapeEntities, WORKER_NICE } from './pii-job';

function run(job: PiiJob): PiiJobReply {
  // A Buffer arrives as a plain Uint8Array (structured clone).
  const { hmacKey, ...rest } = job.options;
  const options: ApplyOptions = hmacKey ? { ...rest, hmacKey: Buffer.from(hmacKey) } : rest;
  try {
    const result =
      job.op === 'text'
        ? applyPii(job.input as string, job.mode, options)
        : applyPiiToJson(job.input, job.mode, options);
    return { id: job.id, result: shapeEntities(result, job.entities, job.mode) };
  } catch (err) {
    const e = err as { name?: string; code?: string; message?: string };
    return {
      id: job.id,
      error: { name: e.name ?? 'Error', code: e.code, message: e.message ?? String(err) },
    };
  }
}

/**
 * This thread yields the CPU to the service's event loop: nice 10 (Linux sets it per thread, and
 * lowering one's own priority needs no privilege). On a 2-core box, two workers scanning and the
 * loop are three runnable threads for two cores, and the loop waited its turn behind the scans
 * (event-loop delay 37–68 ms with no long task of our own on it). Where there is no
 * /proc/thread-self (not Linux), the thread keeps the default priority.
 */
function lowerOwnPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, WORKER_NICE);
  } catch {
    // Not Linux, or /proc is not mounted: the default priority.
  }
}

lowerOwnPriority();

parentPort?.on('message', (job: PiiJob) => {
  const reply = run(job);
  const bytes = reply.result && 'response' in reply.result ? reply.result.response : undefined;
  parentPort!.postMessage(reply, bytes ? [bytes.buffer as ArrayBuffer] : []);
});
