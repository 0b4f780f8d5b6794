export * from './audit.types';
export * from './canonical-json';
export * from './source-ip';
export * from './audit-chain';
export {
  AUDIT_LIMITS,
  AuditEventInvalidError,
  toAuditEventDto,
  normalizePiiSummary,
} from './audit-event.mapper';
export * from './audit-event.entity';
export * from './audit-chain-head.entity';
export * from './audit.options';
export { AuditRepository } from './audit.repository';
export * from './audit.service';
export * from './audit.module';
