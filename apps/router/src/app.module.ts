import { type DynamicModule, Module } from '@nestjs/common';
import { AuditModule, auditOptionsFromConfig } from '@app/audit';
import { AuthModule } from '@app/auth';
import { CacheModule } from '@app/cache';
import { AtpConfigModule, type AppConfig } from '@app/config';
import { DatabaseModule } from '@app/database';
import { HealthModule } from '@app/health';
import { ObservabilityModule } from '@app/observability';
import { AdminModule } from './admin/admin.module';
import { DoorsModule } from './doors/doors.module';
import { ConsoleModule } from './console/console.module';

@Module({})
export class AppModule {
  /** `logStream` replaces stdout for logs (tests capture them). */
  static forRoot(config: AppConfig, options: { logStream?: NodeJS.WritableStream } = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AtpConfigModule.forRoot(config),
        ObservabilityModule.forRoot({
          service: 'router',
          logLevel: config.env.LOG_LEVEL,
          logStream: options.logStream,
        }),
        DatabaseModule.forRoot(config),
        CacheModule.forRoot(config),
        HealthModule,
        AuthModule.forRoot(config),
        // Global: governance audits every call, and one AuditService must own the chain writer.
        { ...AuditModule.forRoot(auditOptionsFromConfig(config)), global: true },
        AdminModule,
        DoorsModule,
        ConsoleModule,
      ],
    };
  }
}
