import { type DynamicModule, Global, Module, type OnModuleInit } from '@nestjs/common';
import { register } from 'prom-client';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { LoggerModule } from 'nestjs-pino';
import { BufferPressure } from './buffer-pressure';
import { MetricsController, shareWorkerMetrics } from './cluster-metrics';
import { createAppLogger, nestLoggerParams } from './logging';

/** The app's pino logger (request lines are written with it). */
export const APP_LOGGER = Symbol('APP_LOGGER');

export interface ObservabilityOptions {
  service: string;
  logLevel: string;
  logStream?: NodeJS.WritableStream;
}

@Global()
@Module({})
export class ObservabilityModule implements OnModuleInit {
  /**
   * prom-client's default set includes gauges named `*_total`, which `promtool check metrics`
   * rejects (a `_total` suffix means a counter). Their per-type twins without the suffix stay.
   */
  onModuleInit(): void {
    shareWorkerMetrics();
    for (const name of [
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_active_resources_total',
    ]) {
      register.removeSingleMetric(name);
    }
  }

  static forRoot(options: ObservabilityOptions): DynamicModule {
    const logger = createAppLogger(options.logLevel, options.service, options.logStream as never);
    return {
      module: ObservabilityModule,
      providers: [{ provide: APP_LOGGER, useValue: logger }, BufferPressure],
      imports: [
        LoggerModule.forRoot(nestLoggerParams(logger)),
        PrometheusModule.register({
          path: '/metrics',
          controller: MetricsController,
          // One process, one set of default metrics (several app instances share the registry in tests).
          defaultMetrics: { enabled: !register.getSingleMetric('process_cpu_user_seconds_total') },
        }),
      ],
      exports: [LoggerModule, APP_LOGGER, BufferPressure],
    };
  }
}
