import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { type DataSource, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import { AuditChainHeadEntity } from './audit-chain-head.entity';
import { type ChainHead, EMPTY_HEAD, sealEvents } from './audit-chain';
import { AuditEventEntity } from './audit-event.entity';
import type { AuditEventRecord, AuditQuery, AuditSecret, PendingAuditEvent } from './audit.types';

/** SQLite's connection is inside a transaction another caller opened: retry the append shortly. */
export class AuditStoreBusyError extends Error {
  constructor() {
    super('the SQLite connection is in another transaction; audit append deferred');
    this.name = 'AuditStoreBusyError';
  }
}

type Filters = Pick<AuditQuery, 'start' | 'end' | 'action' | 'actor'>;

/** Every query of the audit log. Appends take the tenant's chain-head lock. */
@Injectable()
export class AuditRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /**
   * Appends one tenant's events to its chain atomically and returns them as stored. On
   * PostgreSQL the head row is locked (`SELECT … FOR UPDATE`), so writers on every replica
   * queue behind each other; the unique (tenant_id, seq) index is the backstop.
   */
  async appendToChain(
    tenantId: string,
    events: readonly PendingAuditEvent[],
    secret: AuditSecret,
  ): Promise<AuditEventRecord[]> {
    if (!events.length) return [];
    return this.ds.options.type === 'postgres'
      ? this.appendPostgres(tenantId, events, secret)
      : this.appendSqlite(tenantId, events, secret);
  }

  private appendPostgres(tenantId: string, events: readonly PendingAuditEvent[], secret: AuditSecret) {
    return this.ds.transaction(async (m) => {
      let head = await this.lockHead(m, tenantId);
      if (!head) {
        await m
          .createQueryBuilder()
          .insert()
          .into(AuditChainHeadEntity)
          .values({ tenant_id: tenantId, ...EMPTY_HEAD })
          .orIgnore()
          .execute();
        head = (await this.lockHead(m, tenantId))!;
      }
      const sealed = sealEvents(secret, head, events);
      // Plain multi-row INSERTs with the values TypeORM itself would send: its query builder
      // costs more CPU than the rest of the append (the gateway appends on every request).
      const columns = this.ds.getMetadata(AuditEventEntity).columns;
      const names = columns.map((c) => `"${c.databaseName}"`).join(', ');
      for (let i = 0; i < sealed.rows.length; i += 200) {
        const params: unknown[] = [];
        const tuples = sealed.rows.slice(i, i + 200).map((record) => {
          const entity = record as unknown as AuditEventEntity;
          const slots = columns.map((c) => {
            params.push(this.ds.driver.preparePersistentValue(c.getEntityValue(entity), c));
            return `$${params.length}`;
          });
          return `(${slots.join(', ')})`;
        });
        await m.query(`INSERT INTO audit_events (${names}) VALUES ${tuples.join(', ')}`, params);
      }
      await m.update(AuditChainHeadEntity, { tenant_id: tenantId }, sealed.head);
      return sealed.rows;
    });
  }

  private async lockHead(m: EntityManager, tenantId: string): Promise<ChainHead | null> {
    const row = await m
      .getRepository(AuditChainHeadEntity)
      .createQueryBuilder('h')
      .setLock('pessimistic_write')
      .where('h.tenant_id = :tenantId', { tenantId })
      .getOne();
    return row ? { seq: row.seq, hash: row.hash } : null;
  }

  /**
   * SQLite: one synchronous `BEGIN IMMEDIATE` transaction on the raw connection. Synchronous, so
   * nothing else in this process interleaves with it; IMMEDIATE, so another process sharing
   * the file (router + gateway) waits for the write lock instead of racing on the head.
   */
  private appendSqlite(tenantId: string, events: readonly PendingAuditEvent[], secret: AuditSecret) {
    const db = (this.ds.driver as unknown as { databaseConnection: SqliteDatabase }).databaseConnection;
    // TypeORM shares this one connection; never nest inside a transaction someone else has open.
    if (db.inTransaction) throw new AuditStoreBusyError();
    const meta = this.ds.getMetadata(AuditEventEntity);
    const columns = meta.columns;
    const insert = db.prepare(
      `INSERT INTO audit_events (${columns.map((c) => `"${c.databaseName}"`).join(', ')}) VALUES (${columns
        .map(() => '?')
        .join(', ')})`,
    );
    const run = db.transaction((): AuditEventRecord[] => {
      const row = db.prepare('SELECT seq, hash FROM audit_chain_heads WHERE tenant_id = ?').get(tenantId) as
        { seq: number; hash: string } | undefined;
      const sealed = sealEvents(secret, row ? { seq: Number(row.seq), hash: row.hash } : EMPTY_HEAD, events);
      for (const record of sealed.rows) {
        const entity = record as unknown as AuditEventEntity;
        insert.run(
          ...columns.map(
            (c) => this.ds.driver.preparePersistentValue(c.getEntityValue(entity), c) as unknown,
          ),
        );
      }
      db.prepare(
        `INSERT INTO audit_chain_heads (tenant_id, seq, hash) VALUES (?, ?, ?)
         ON CONFLICT (tenant_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`,
      ).run(tenantId, sealed.head.seq, sealed.head.hash);
      return sealed.rows;
    });
    return Promise.resolve(run.immediate());
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
