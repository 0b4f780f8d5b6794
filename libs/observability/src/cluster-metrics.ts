import cluster, { type Worker } from 'node:cluster';
import { Controller, Get, Res } from '@nestjs/common';
import { PrometheusController } from '@willsoto/nestjs-prometheus';
import { AggregatorRegistry, type PrometheusContentType, register } from 'prom-client';

const METRICS_REQUEST = 'atp:metrics?';
const METRICS_REPLY = 'atp:metrics!';

interface MetricsRequest {
  type: typeof METRICS_REQUEST;
  id: number;
}
interface MetricsReply {
  type: typeof METRICS_REPLY;
  id: number;
  text?: string;
  error?: string;
}

let aggregator: AggregatorRegistry<PrometheusContentType> | null = null;

/**
 * In a worker of a cluster: answer the primary's requests for this process's metrics (prom-client
 * installs that listener when an AggregatorRegistry is created). No-op outside a cluster.
 */
export function shareWorkerMetrics(): void {
  if (cluster.isWorker) aggregator ??= new AggregatorRegistry();
}

/** In the primary of a cluster: answers a worker's request for every worker's metrics. */
export function answerMetricsRequests(worker: Worker): void {
  aggregator ??= new AggregatorRegistry();
  const agg = aggregator;
  worker.on('message', (msg: MetricsRequest) => {
    if (msg?.type !== METRICS_REQUEST) return;
    agg.clusterMetrics().then(
      (text: string) => worker.send({ type: METRICS_REPLY, id: msg.id, text } satisfies MetricsReply),
      (err: Error) =>
        worker.send({ type: METRICS_REPLY, id: msg.id, error: err.message } satisfies MetricsReply),
    );
  });
}

let nextId = 0;
const pending = new Map<number, { resolve: (t: string) => void; reject: (e: Error) => void }>();

/**
 * In a worker of a cluster (libs/common runPrimary): every worker's metrics, aggregated by the primary (counters
 * and histograms summed). Null outside a cluster (the caller serves its own registry).
 */
export function clusterMetrics(timeoutMs = 5_000): Promise<string> | null {
  if (!cluster.isWorker || !process.send) return null;
  if (!process.listeners('message').includes(onReply)) process.on('message', onReply);
  const id = ++nextId;
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new Error('the primary did not answer with the aggregated metrics'));
    }, timeoutMs);
    pending.set(id, {
      resolve: (t) => {
        clearTimeout(timer);
        resolve(t);
      },
      reject: (e) => {
        clearTimeout(timer);
        reject(e);
      },
    });
    process.send!({ type: METRICS_REQUEST, id } satisfies MetricsRequest);
  });
}

function onReply(message: unknown): void {
  const msg = message as MetricsReply;
  if (msg?.type !== METRICS_REPLY) return;
  const p = pending.get(msg.id);
  if (!p) return;
  pending.delete(msg.id);
  if (msg.error !== undefined) p.reject(new Error(msg.error));
  else p.resolve(msg.text ?? '');
}

/**
 * GET /metrics: this process's registry, or, in a worker of a cluster, all workers' metrics
 * aggregated by the primary (a scrape reaches one worker; it must see the whole service).
 */
@Controller()
export class MetricsController extends PrometheusController {
  @Get()
  override async index(
    @Res({ passthrough: true }) response: { header(k: string, v: string): void },
  ): Promise<string> {
    response.header('Content-Type', register.contentType);
    return (await clusterMetrics()) ?? register.metrics();
  }
}
