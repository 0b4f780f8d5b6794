import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Limits } from '../limits';
import type { Scope } from '../scopes';

/** `api_keys`: only the SHA-256 of a key is stored, never the key. */
@Entity({ name: 'api_keys' })
export class ApiKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'tenant_id', type: 'varchar', length: 36 })
  tenantId!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  /** Display prefix (`atp_` + 8 characters): not enough to use or guess the key. */
  @Column({ type: 'varchar', length: 16 })
  prefix!: string;

  @Column({ name: 'key_hash', type: 'varchar', length: 64 })
  keyHash!: string;

  @Column({ type: 'simple-json' })
  scopes!: Scope[];

  @Column({ type: 'simple-json', nullable: true })
  limits!: Limits | null;

  @Column({ name: 'created_by', type: 'varchar', length: 255, nullable: true })
  createdBy!: string | null;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: Date, nullable: true })
  expiresAt!: Date | null;

  @Column({ name: 'revoked_at', type: Date, nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'last_used_at', type: Date, nullable: true })
  lastUsedAt!: Date | null;
}
