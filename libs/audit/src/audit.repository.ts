import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type SelectQueryBuilder } from 'typeorm';
import { defer, placeholders, sql, type SqlPlan, SqlRunner, SqlTable } from '@app/database';
import { AuditChainHeadEntity } from './audit-chain-head.entity';
import { type ChainHead, EMPTY_HEAD, sealEvents } from './audit-chain';
import { AuditEventEntity } from './audit-event.entity';
import type { AuditEventRecord, AuditQuery, AuditSecret, PendingAuditEvent } from './audit.types';

type Filters = Pick<AuditQuery, 'start' | 'end' | 'action' | 'actor'>;

/**
 * `audit_events` for the appends: every column of {@link AuditEventEntity} (the spec checks
 * they agree) with its value as TypeORM's driver would persist it (`pii_summary` as JSON text).
 */
const AUDIT_EVENTS = new SqlTable<AuditEventRecord>('audit_events', {
  event_id: (r) => r.event_id,
  tenant_id: (r) => r.tenant_id,
  seq: (r) => r.seq,
  occurred_at: (r) => r.occurred_at,
  actor_type: (r) => r.actor_type,
  actor_id: (r) => r.actor_id,
  credential_id: (r) => r.credential_id,
  action: (r) => r.action,
  resource_type: (r) => r.resource_type,
  resource_id: (r) => r.resource_id,
  outcome: (r) => r.outcome,
  status_code: (r) => r.status_code,
  request_id: (r) => r.request_id,
  source_ip: (r) => r.source_ip,
  pii_summary: (r) =>
    r.pii_summary === null || r.pii_summary === undefined ? r.pii_summary : JSON.stringify(r.pii_summary),
  hash_key_id: (r) => r.hash_key_id,
  prev_hash: (r) => r.prev_hash,
  hash: (r) => r.hash,
});

/** Every column of `audit_events`, in the order {@link pushRowValues} writes them. */
export const AUDIT_EVENT_COLUMNS = AUDIT_EVENTS.columns;
const OCCURRED_AT = AUDIT_EVENT_COLUMNS.indexOf('occurred_at');

/**
 * Appends a stored row's values, in {@link AUDIT_EVENT_COLUMNS} order, with `occurred_at` as
 * given (the engine's form of the date: the spec checks these against TypeORM's
 * `preparePersistentValue`).
 */
export function pushRowValues(out: unknown[], r: AuditEventRecord, occurredAt: unknown): void {
  const values = AUDIT_EVENTS.values(r);
  values[OCCURRED_AT] = occurredAt;
  out.push(...values);
}

/** Every query of the audit log. Appends take the tenant's chain-head lock. */
@Injectable()
export class AuditRepository {
  private readonly db: SqlRunner;

  constructor(@InjectDataSource() private readonly ds: DataSource) {
    this.db = new SqlRunner(ds);
  }

  /**
   * Appends one tenant's events to its chain atomically and returns them as stored. The head
   * row is read first and written last in one transaction: locked on PostgreSQL (`FOR UPDATE`),
   * so writers on every replica queue behind each other (the unique (tenant_id, seq) index is
   * the backstop); on SQLite the IMMEDIATE transaction keeps every other writer out, this
   * process's and any other sharing the file (router + gateway).
   *
   * With `retry`, events already in the chain are left out: an earlier attempt may have committed
   * them and lost the answer (the connection died after the COMMIT reached the server). Appending
   * them again would fail on their primary key on every retry, and hold every later event back.
   */
  async appendToChain(
    tenantId: string,
    events: readonly PendingAuditEvent[],
    secret: AuditSecret,
    options: { retry?: boolean } = {},
  ): Promise<AuditEventRecord[]> {
    if (!events.length) return [];
    return this.db.transaction(() => this.appendPlan(tenantId, events, secret, options.retry ?? false));
  }

  private *appendPlan(
    tenantId: string,
    events: readonly PendingAuditEvent[],
    secret: AuditSecret,
    retry: boolean,
  ): SqlPlan<AuditEventRecord[]> {
    let head = yield* this.lockHead(tenantId);
    if (!head) {
      yield sql(
        'INSERT INTO audit_chain_heads (tenant_id, seq, hash) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
        tenantId,
        EMPTY_HEAD.seq,
        EMPTY_HEAD.hash,
      );
      head = (yield* this.lockHead(tenantId))!;
    }
    if (retry) {
      // Read under the head's lock: no other writer appends to this chain meanwhile.
      const ids = events.map((e) => e.event_id);
      const { rows } = yield sql(
        `SELECT event_id FROM audit_events WHERE tenant_id = ? AND event_id IN (${placeholders(ids.length)})`,
        tenantId,
        ...ids,
      );
      const stored = new Set(rows.map((r) => String(r.event_id)));
      events = events.filter((e) => !stored.has(e.event_id));
      if (!events.length) return [];
    }
    const sealed = sealEvents(secret, head, events);
    // Nothing below is read back: on PostgreSQL the rows, the new head and the COMMIT travel
    // together, and the head's lock is held only while the database commits.
    yield* this.db.insertStatements(AUDIT_EVENTS, sealed.rows).map(defer);
    yield defer(
      sql(
        'UPDATE audit_chain_heads SET seq = ?, hash = ? WHERE tenant_id = ?',
        sealed.head.seq,
        sealed.head.hash,
        tenantId,
      ),
    );
    return sealed.rows;
  }

  /** The tenant's chain head, locked until the transaction ends (see {@link SqlRunner.forUpdate}). */
  private *lockHead(tenantId: string): SqlPlan<ChainHead | null> {
    const { rows } = yield sql(
      `SELECT seq, hash FROM audit_chain_heads WHERE tenant_id = ?${this.db.forUpdate}`,
      tenantId,
    );
    return rows.length ? { seq: Number(rows[0].seq), hash: String(rows[0].hash) } : null;
  }

  /** The recorded head of a tenant's chain, or null when it has never been written. */
  async findHead(tenantId: string): Promise<ChainHead | null> {
    const row = await this.ds.getRepository(AuditChainHeadEntity).findOneBy({ tenant_id: tenantId });
    return row ? { seq: row.seq, hash: row.hash } : null;
  }

  /** Newest first, seq below `beforeSeq` (when set), at most `limit` rows. */
  async listNewestFirst(
    tenantId: string,
    params: { filters: Filters; beforeSeq: number | null; limit: number },
  ): Promise<AuditEventRecord[]> {
    const qb = this.filtered(tenantId, params.filters);
    if (params.beforeSeq !== null) qb.andWhere('e.seq < :beforeSeq', { beforeSeq: params.beforeSeq });
    return this.records(await qb.orderBy('e.seq', 'DESC').take(params.limit).getMany());
  }

  /** Oldest first, seq in (afterSeq, maxSeq]; for verification and export pages. */
  async pageBySeq(
    tenantId: string,
    params: { afterSeq: number; maxSeq?: number; limit: number; filters?: Filters },
  ): Promise<AuditEventRecord[]> {
    const qb = this.filtered(tenantId, params.filters ?? {}).andWhere('e.seq > :after', {
      after: params.afterSeq,
    });
    if (params.maxSeq !== undefined) qb.andWhere('e.seq <= :max', { max: params.maxSeq });
    return this.records(await qb.orderBy('e.seq', 'ASC').take(params.limit).getMany());
  }

  private filtered(tenantId: string, f: Filters): SelectQueryBuilder<AuditEventEntity> {
    const qb = this.ds
      .getRepository(AuditEventEntity)
      .createQueryBuilder('e')
      .where('e.tenant_id = :tenantId', { tenantId });
    if (f.start) qb.andWhere('e.occurred_at >= :start', { start: f.start });
    if (f.end) qb.andWhere('e.occurred_at < :end', { end: f.end });
    if (f.action) qb.andWhere('e.action = :action', { action: f.action });
    if (f.actor) qb.andWhere('e.actor_id = :actor', { actor: f.actor });
    return qb;
  }

  private records(rows: AuditEventEntity[]): AuditEventRecord[] {
    return rows.map((r) => ({ ...r }));
  }
}
