import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Limits } from '../limits';

/** `tenants` (baseline migration; `limits` added by the auth migration). */
@Entity({ name: 'tenants' })
export class TenantEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  /** jsonb on PostgreSQL, text on SQLite: `simple-json` reads both. */
  @Column({ type: 'simple-json', nullable: true })
  limits!: Limits | null;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;
}
