import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One row per router request (chat or embeddings), written in batches off the critical path. */
@Entity('usage_records')
@Index(['tenantId', 'createdAt'])
export class UsageRecordEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'tenant_id', type: 'varchar', length: 36 })
  tenantId!: string;

  @Column({ name: 'api_key_id', type: 'varchar', length: 64, nullable: true })
  apiKeyId!: string | null;

  @Column({ type: 'varchar', length: 200 })
  subject!: string;

  @Column({ type: 'varchar', length: 16 })
  /** The door the call came in through. */
  endpoint!: 'chat' | 'embeddings' | 'responses' | 'messages';

  @Column({ type: 'varchar', length: 200 })
  route!: string;

  @Column({ type: 'varchar', length: 64 })
  provider!: string;

  @Column({ type: 'varchar', length: 200 })
  model!: string;

  @Column({ name: 'prompt_tokens', type: 'integer' })
  promptTokens!: number;

  @Column({ name: 'completion_tokens', type: 'integer' })
  completionTokens!: number;

  @Column({ name: 'total_tokens', type: 'integer' })
  totalTokens!: number;

  @Column({ name: 'cost_usd', type: 'double precision' })
  costUsd!: number;

  @Column({ name: 'latency_ms', type: 'integer' })
  latencyMs!: number;

  @Column({ name: 'ttft_ms', type: 'integer', nullable: true })
  ttftMs!: number | null;

  @Column({ type: 'integer' })
  status!: number;

  /** ok | error | client_closed */
  @Column({ type: 'varchar', length: 16 })
  outcome!: string;

  @Column({ type: 'boolean', default: false })
  cached!: boolean;

  @Column({ type: 'boolean', default: false })
  estimated!: boolean;

  @Column({ type: 'boolean', default: false })
  stream!: boolean;

  @Column({ type: 'integer', default: 1 })
  attempts!: number;

  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  requestId!: string | null;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;
}
