import { __resetOutOfContextForTests } from 'nestjs-pino/PinoLogger';
import { Writable } from 'node:stream';
import type { DynamicModule } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type AppConfig, loadConfig } from '@app/config';
import { createHttpApp } from '@app/common';

export type ServiceName = 'router' | 'memory-gateway';

export interface AppModuleLike {
  forRoot(config: AppConfig, options?: { logStream?: NodeJS.WritableStream }): DynamicModule;
}

export interface BootedApp {
  app: NestFastifyApplication;
  config: AppConfig;
  /** http://127.0.0.1:<port> */
  url: string;
  /** Every log line the app wrote (for "no secret in logs" assertions). */
  logs: string[];
  close(): Promise<void>;
}

/** Log lines go to memory, not the test output; tests may search them. */
export function captureStream(lines: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(line);
      cb();
    },
  });
}

/**
 * Boots a real AppModule the way main.ts does (same Fastify setup, filters, pipes, Swagger),
 * listening on a random loopback port.
 */
export async function bootApp(
  service: ServiceName,
  appModule: AppModuleLike,
  env: Record<string, string>,
  extraImports: DynamicModule['imports'] = [],
): Promise<BootedApp> {
  const config = loadConfig(service, env);
  // Application log lines (nestjs-pino's logger outside a request) go to the first app's stream in
  // a process; tests boot several apps, so the one booted last owns them, as it owns the metrics.
  __resetOutOfContextForTests();
  const logs: string[] = [];
  const root = appModule.forRoot(config, { logStream: captureStream(logs) });
  const module: DynamicModule = { ...root, imports: [...(root.imports ?? []), ...extraImports] };
  const app = await createHttpApp(module, config, { title: `test ${service}`, description: 'test' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { app, config, url: `http://127.0.0.1:${port}`, logs, close: () => app.close() };
}
