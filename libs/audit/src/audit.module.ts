import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditChainHeadEntity } from './audit-chain-head.entity';
import { AuditEventEntity } from './audit-event.entity';
import { AUDIT_OPTIONS, type AuditOptions } from './audit.options';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';

/** The audit log's entities, for a DataSource built by hand (tests, CLI). */
export const AUDIT_ENTITIES = [AuditEventEntity, AuditChainHeadEntity];

/**
 * Provides {@link AuditService} on the app's DataSource (DatabaseModule with autoLoadEntities).
 * `AuditModule.forRoot(auditOptionsFromConfig(config))` is the usual call.
 */
@Module({})
export class AuditModule {
  static forRoot(options: AuditOptions): DynamicModule {
    return {
      module: AuditModule,
      imports: [TypeOrmModule.forFeature(AUDIT_ENTITIES)],
      providers: [{ provide: AUDIT_OPTIONS, useValue: options }, AuditRepository, AuditService],
      exports: [AuditService],
    };
  }
}
