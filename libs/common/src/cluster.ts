import cluster, { type Worker } from 'node:cluster';
import { answerMetricsRequests } from '@app/observability';
import { serviceLine as line } from './service-line';

const RESTART_WINDOW_MS = 60_000;
const MAX_RESTARTS = 5;

export interface PrimaryOptions {
  service: string;
  workers: number;
  /** Milliseconds SIGTERM waits for the workers to drain before they are killed. */
  graceMs: number;
}

/**
 * The primary of an N-worker service: forks the first worker and waits until it listens (so
 * migrations and the dev bootstrap run once), then the others. The workers share the port
 * (the primary hands out connections round-robin). A worker that dies after having served is
 * replaced (at most 5 times a minute; then the service stops with exit 1); one that fails to
 * start stops the service. SIGTERM/SIGINT: every worker drains and flushes, then exit 0.
 * `/metrics` on any worker answers for all of them (aggregated here: answerMetricsRequests).
 */
export function runPrimary(opts: PrimaryOptions): void {
  const { service } = opts;
  let stopping = false;
  let failed = false;
  const restarts: number[] = [];
  const listened = new WeakSet<Worker>();

  const fork = (): Worker => {
    const worker = cluster.fork();
    worker.once('listening', () => {
      listened.add(worker);
      const count = Object.keys(cluster.workers ?? {}).length;
      if (count < opts.workers && !stopping) fork();
      else if (!stopping) line('INFO', service, `${opts.workers} workers listening`);
    });
    answerMetricsRequests(worker);
    return worker;
  };

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      // A worker still booting when SIGTERM came has no handler yet and dies of the signal: fine.
      if ((code !== null && code !== 0) || (signal && signal !== 'SIGTERM')) failed = true;
      if (!Object.keys(cluster.workers ?? {}).length) process.exit(failed ? 1 : 0);
      return;
    }
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (!listened.has(worker)) {
      line('ERROR', service, `worker ${worker.process.pid} failed to start (${how}); stopping`);
      failed = true;
      void stop();
      return;
    }
    const now = Date.now();
    while (restarts.length && restarts[0] < now - RESTART_WINDOW_MS) restarts.shift();
    if (restarts.length >= MAX_RESTARTS) {
      line('ERROR', service, `workers keep exiting (${MAX_RESTARTS} restarts within a minute); stopping`);
      failed = true;
      void stop();
      return;
    }
    restarts.push(now);
    line('ERROR', service, `worker ${worker.process.pid} exited (${how}); starting a new one`);
    fork();
  });

  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
    if (!workers.length) process.exit(failed ? 1 : 0);
    for (const w of workers) w.process.kill('SIGTERM');
    setTimeout(() => {
      line('ERROR', service, `workers did not stop within ${opts.graceMs} ms; killing them`);
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      process.exit(1);
    }, opts.graceMs + 2_000).unref();
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());

  line('INFO', service, `starting ${opts.workers} workers`);
  fork();
}
