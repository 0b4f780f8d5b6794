import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintToNumber } from './audit-event.entity';

/** The last seq and hash of each tenant's chain; its row lock serialises writers across replicas. */
@Entity({ name: 'audit_chain_heads' })
export class AuditChainHeadEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  tenant_id!: string;

  @Column({ type: 'bigint', transformer: bigintToNumber })
  seq!: number;

  @Column({ type: 'varchar', length: 64 })
  hash!: string;
}
