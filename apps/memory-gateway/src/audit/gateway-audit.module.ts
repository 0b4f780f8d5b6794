import { type DynamicModule, Global, Module } from '@nestjs/common';
import { AuditModule, auditOptionsFromConfig, AuditService } from '@app/audit';
import { AUTH_EVENT_SINK } from '@app/auth';
import type { AppConfig } from '@app/config';
import { AuditAuthEventSink } from './audit-auth-event.sink';
import { AuditController } from './audit.controller';

/**
 * The gateway's one {@link AuditService} (a single writer per process keeps each chain's appends
 * ordered), the `/v1/audit` API, and the auth library's event sink bound to the audit log.
 * Global so that AuthModule's optional AUTH_EVENT_SINK resolves to it.
 */
@Global()
@Module({})
export class GatewayAuditModule {
  static forRoot(config: AppConfig): DynamicModule {
    const audit = AuditModule.forRoot(auditOptionsFromConfig(config));
    return {
      module: GatewayAuditModule,
      imports: [audit],
      controllers: [AuditController],
      providers: [
        {
          provide: AUTH_EVENT_SINK,
          useFactory: (s: AuditService) => new AuditAuthEventSink(s),
          inject: [AuditService],
        },
      ],
      exports: [audit, AUTH_EVENT_SINK],
    };
  }
}
