import { type DynamicModule, Global, Module } from '@nestjs/common';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { LoggerModule } from 'nestjs-pino';
import { httpLoggerOptions } from './logging';

export interface ObservabilityOptions {
  service: string;
  logLevel: string;
  logStream?: NodeJS.WritableStream;
}

@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(options: ObservabilityOptions): DynamicModule {
    return {
      module: ObservabilityModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: httpLoggerOptions(options.logLevel, options.service, options.logStream as never),
        }),
        PrometheusModule.register({
          path: '/metrics',
          defaultMetrics: { enabled: true },
        }),
      ],
      exports: [LoggerModule],
    };
  }
}
