import { Column, Entity, Index, PrimaryColumn, type ValueTransformer } from 'typeorm';
import type { ActorType, AuditAction, AuditOutcome, PiiCount } from './audit.types';

/** bigint arrives as a string from PostgreSQL and as a number from SQLite. */
export const bigintToNumber: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | number | null) => (v === null || v === undefined ? v : Number(v)),
};

/**
 * One audit event. Append-only: PostgreSQL and SQLite triggers reject UPDATE and DELETE.
 * No foreign key to tenants: erasing a tenant keeps its audit chain.
 */
@Entity({ name: 'audit_events' })
@Index('uq_audit_events_tenant_seq', ['tenant_id', 'seq'], { unique: true })
export class AuditEventEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  event_id!: string;

  @Column({ type: 'varchar', length: 64 })
  tenant_id!: string;

  @Column({ type: 'bigint', transformer: bigintToNumber })
  seq!: number;

  @Column({ type: Date })
  occurred_at!: Date;

  @Column({ type: 'varchar', length: 16 })
  actor_type!: ActorType;

  @Column({ type: 'varchar', length: 256, nullable: true })
  actor_id!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  credential_id!: string | null;

  @Column({ type: 'varchar', length: 32 })
  action!: AuditAction;

  @Column({ type: 'varchar', length: 32, nullable: true })
  resource_type!: string | null;

  @Column({ type: 'varchar', length: 512, nullable: true })
  resource_id!: string | null;

  @Column({ type: 'varchar', length: 16 })
  outcome!: AuditOutcome;

  @Column({ type: 'integer', nullable: true })
  status_code!: number | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  request_id!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  source_ip!: string | null;

  @Column({ type: 'jsonb', nullable: true })
  pii_summary!: PiiCount[] | null;

  @Column({ type: 'varchar', length: 32 })
  hash_key_id!: string;

  @Column({ type: 'varchar', length: 64 })
  prev_hash!: string;

  @Column({ type: 'varchar', length: 64 })
  hash!: string;
}
