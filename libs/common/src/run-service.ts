import cluster from 'node:cluster';
import type { DynamicModule } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  type AppConfig,
  type AppName,
  ConfigError,
  loadConfig,
  loadDotEnv,
  readProcessEnv,
} from '@app/config';
import type { TracingHandle } from '@app/observability';
import { AcceptLanes } from './accept-lanes';
import { runPrimary } from './cluster';
import { createHttpApp, type HttpAppOptions } from './http-app';
import { serviceLine } from './service-line';
import { shutdownNotice, streamCutoffMs } from './shutdown-notice';

export interface ServiceDefinition {
  app: Exclude<AppName, 'cli'>;
  module: (config: AppConfig) => DynamicModule;
  http: HttpAppOptions;
  /** Started by the app's instrument.ts before anything loads http (null when tracing is off). */
  tracing: TracingHandle | null;
  /** Printed once the service listens (never a secret). */
  banner?: (config: AppConfig, url: string) => string[];
}

function fail(message: string): never {
  process.stderr.write(JSON.stringify({ severity: 'ERROR', message, time: new Date().toISOString() }) + '\n');
  process.exit(1);
}

/**
 * main.ts of each service: validate env (one message, exit 1), start tracing, listen, and on
 * SIGTERM/SIGINT stop accepting, finish in-flight requests (those that would outlive the grace
 * are ended with a retryable error at {@link streamCutoffMs}), flush batched writes, close pools
 * and exit 0.
 */
export async function runService(def: ServiceDefinition): Promise<void> {
  loadDotEnv();
  let config: AppConfig;
  try {
    config = loadConfig(def.app, readProcessEnv());
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  const workers = (config.env as { ATP_ROUTER_WORKERS?: number }).ATP_ROUTER_WORKERS ?? 1;
  if (workers > 1 && cluster.isPrimary) {
    // The primary only supervises: the workers each run everything below, on one shared port.
    await def.tracing?.shutdown();
    runPrimary({ service: def.app, workers, graceMs: config.env.ATP_SHUTDOWN_GRACE_SECONDS * 1000 });
    return;
  }
  const tracing = def.tracing;

  let app: NestFastifyApplication;
  try {
    app = await createHttpApp(def.module(config), config, def.http);
    await app.listen({ port: config.env.PORT, host: '0.0.0.0' });
  } catch (err) {
    fail(`${def.app} failed to start: ${(err as Error).message}`);
  }
  let lanes = AcceptLanes.none();
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.env.PORT;
  const url = `http://localhost:${port}`;
  for (const line of def.banner?.(config, url) ?? [`${def.app} listening on ${url}`]) {
    serviceLine('INFO', def.app, line);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const graceMs = config.env.ATP_SHUTDOWN_GRACE_SECONDS * 1000;
    // Past the grace period we exit anyway: Cloud Run sends SIGKILL 10 s after SIGTERM.
    setTimeout(() => {
      process.stderr.write(`${def.app}: in-flight requests did not finish within ${graceMs} ms, exiting\n`);
      process.exit(0);
    }, graceMs + 1000).unref();
    // Streams (and calls still waiting on an upstream) that would outlive the grace are ended
    // before it runs out, so their error event, usage row and audit event make it out.
    setTimeout(() => {
      const ended = shutdownNotice.fire();
      if (ended)
        serviceLine(
          'INFO',
          def.app,
          `${signal}: ending ${ended} unfinished call(s) before the grace runs out`,
        );
    }, streamCutoffMs(graceMs)).unref();
    try {
      serviceLine('INFO', def.app, `${signal}: draining`);
      // Drain HTTP first (stop accepting, finish in-flight requests and streams), then run the
      // shutdown hooks that flush batched writes while the database is still open.
      // A connection whose response ends after close() began stays open as keep-alive until its
      // timeout (close() only closes the connections idle when it is called): close them as they
      // go idle, so the drain ends when the last response does.
      const server = app.getHttpServer() as import('node:http').Server;
      const idleCloser = setInterval(() => server.closeIdleConnections(), 100).unref();
      const lanesDrained = lanes.close();
      await app.getHttpAdapter().getInstance().close();
      await lanesDrained;
      clearInterval(idleCloser);
      await app.close();
      await tracing?.shutdown();
      process.exit(0);
    } catch (err) {
      process.stderr.write(`${def.app}: error during shutdown: ${(err as Error).message}\n`);
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  // Opened last, with the signal handlers in place (/health already answers meanwhile); in a
  // cluster worker the primary accepts and hands connections over, so none there.
  if (cluster.isPrimary) {
    lanes = await openAcceptLanes(app, config.env.ATP_ACCEPT_LANES, def.app);
    if (stopping) void lanes.close();
  }
}

/** The accept lanes, or none (with a warning) if they cannot be opened: slower under load, not broken. */
async function openAcceptLanes(
  app: NestFastifyApplication,
  count: number,
  service: string,
): Promise<AcceptLanes> {
  try {
    return await AcceptLanes.open(app.getHttpServer(), count);
  } catch (err) {
    serviceLine(
      'WARN',
      service,
      `accept lanes not opened (${(err as Error).message}); one accept per loop turn`,
    );
    return AcceptLanes.none();
  }
}
