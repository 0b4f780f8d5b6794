import { type DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '@app/auth';
import { CacheModule } from '@app/cache';
import { AtpConfigModule, type AppConfig } from '@app/config';
import { DatabaseModule } from '@app/database';
import { HealthModule } from '@app/health';
import { ObservabilityModule } from '@app/observability';
import { GatewayAuditModule } from './audit/gateway-audit.module';
import { MemoriesModule } from './memories/memories.module';

@Module({})
export class AppModule {
  /** `logStream` replaces stdout for logs (tests capture them). */
  static forRoot(config: AppConfig, options: { logStream?: NodeJS.WritableStream } = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AtpConfigModule.forRoot(config),
        ObservabilityModule.forRoot({
          service: 'memory-gateway',
          logLevel: config.env.LOG_LEVEL,
          logStream: options.logStream,
        }),
        DatabaseModule.forRoot(config),
        CacheModule.forRoot(config),
        HealthModule,
        AuthModule.forRoot(config),
        GatewayAuditModule.forRoot(config),
        MemoriesModule,
      ],
    };
  }
}
