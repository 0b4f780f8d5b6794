import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { type DataSource, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import { sqliteDatetime, sqliteForWrite } from '@app/database';
import { AuditChainHeadEntity } from './audit-chain-head.entity';
import { type ChainHead, EMPTY_HEAD, sealEvents } from './audit-chain';
import { AuditEventEntity } from './audit-event.entity';
import type { AuditEventRecord, AuditQuery, AuditSecret, PendingAuditEvent } from './audit.types';

type Filters = Pick<AuditQuery, 'start' | 'end' | 'action' | 'actor'>;

/** Every column of `audit_events` (the entity's), in the order {@link pushRowValues} writes them. */
export const AUDIT_EVENT_COLUMNS = [
  'event_id',
  'tenant_id',
  'seq',
  'occurred_at',
  'actor_type',
  'actor_id',
  'credential_id',
  'action',
  'resource_type',
  'resource_id',
  'outcome',
  'status_code',
  'request_id',
  'source_ip',
  'pii_summary',
  'hash_key_id',
  'prev_hash',
  'hash',
] as const;

const COLUMN_LIST = AUDIT_EVENT_COLUMNS.map((c) => `"${c}"`).join(', ');
/** 18 parameters a row: far below PostgreSQL's 65 535 per statement. */
const PG_ROWS_PER_INSERT = 500;

/**
 * Appends a stored row's values as TypeORM's driver would persist them (the spec checks this
 * against `preparePersistentValue`): `pii_summary` as JSON text, `occurred_at` as given.
 */
export function pushRowValues(out: unknown[], r: AuditEventRecord, occurredAt: unknown): void {
  const pii = r.pii_summary;
  out.push(
    r.event_id,
    r.tenant_id,
    r.seq,
    occurredAt,
    r.actor_type,
    r.actor_id,
    r.credential_id,
    r.action,
    r.resource_type,
    r.resource_id,
    r.outcome,
    r.status_code,
    r.request_id,
    r.source_ip,
    pii === null || pii === undefined ? pii : JSON.stringify(pii),
    r.hash_key_id,
    r.prev_hash,
    r.hash,
  );
}

/** Rows from a JSON array of records whose keys are the column names (extra keys ignored). */
const PG_INSERT_JSON = `INSERT INTO audit_events (${COLUMN_LIST})
  SELECT ${COLUMN_LIST} FROM json_populate_recordset(NULL::audit_events, $1::json)`;

/** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: the years `toISOString` writes plainly. */
const ISO_MIN_MS = -62_167_219_200_000;
const ISO_MAX_MS = 253_402_300_799_999;

/** Does `occurred_at` serialise (`Date#toJSON`) as a plain `YYYY-MM-DDTHH:MM:SS.mmmZ`? */
function isoTimestamp(record: AuditEventRecord): boolean {
  const t = record.occurred_at.getTime();
  return t >= ISO_MIN_MS && t <= ISO_MAX_MS;
}

const pgInsertSqls = new Map<number, string>();

/** `INSERT INTO audit_events (…) VALUES ($1, …), …` for `rows` rows (cached per row count). */
function pgInsertSql(rows: number): string {
  let sql = pgInsertSqls.get(rows);
  if (!sql) {
    const width = AUDIT_EVENT_COLUMNS.length;
    const tuples: string[] = [];
    for (let r = 0; r < rows; r++) {
      tuples.push(`(${AUDIT_EVENT_COLUMNS.map((_, c) => `$${r * width + c + 1}`).join(', ')})`);
    }
    sql = `INSERT INTO audit_events (${COLUMN_LIST}) VALUES ${tuples.join(', ')}`;
    pgInsertSqls.set(rows, sql);
  }
  return sql;
}

/** PostgreSQL: the tenant's chain head, row-locked (`FOR UPDATE`) until the transaction ends. */
async function lockHead(m: EntityManager, tenantId: string): Promise<ChainHead | null> {
  const rows = (await m.query('SELECT seq, hash FROM audit_chain_heads WHERE tenant_id = $1 FOR UPDATE', [
    tenantId,
  ])) as { seq: string | number; hash: string }[];
  return rows.length ? { seq: Number(rows[0].seq), hash: rows[0].hash } : null;
}

type SqliteAppend = (
  tenantId: string,
  events: readonly PendingAuditEvent[],
  secret: AuditSecret,
) => AuditEventRecord[];

/** Statements prepared once per SQLite connection (better-sqlite3 keeps them compiled). */
const sqliteAppenders = new WeakMap<SqliteDatabase, SqliteAppend>();

function sqliteAppender(db: SqliteDatabase): SqliteAppend {
  const insert = db.prepare(
    `INSERT INTO audit_events (${COLUMN_LIST}) VALUES (${AUDIT_EVENT_COLUMNS.map(() => '?').join(', ')})`,
  );
  const selectHead = db.prepare<[string], { seq: number; hash: string }>(
    'SELECT seq, hash FROM audit_chain_heads WHERE tenant_id = ?',
  );
  const upsertHead = db.prepare(
    `INSERT INTO audit_chain_heads (tenant_id, seq, hash) VALUES (?, ?, ?)
     ON CONFLICT (tenant_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`,
  );
  const run = db.transaction(
    (tenantId: string, events: readonly PendingAuditEvent[], secret: AuditSecret): AuditEventRecord[] => {
      const row = selectHead.get(tenantId);
      const sealed = sealEvents(secret, row ? { seq: Number(row.seq), hash: row.hash } : EMPTY_HEAD, events);
      const values: unknown[] = [];
      for (const record of sealed.rows) {
        values.length = 0;
        pushRowValues(values, record, sqliteDatetime(record.occurred_at));
        insert.run(values);
      }
      upsertHead.run(tenantId, sealed.head.seq, sealed.head.hash);
      return sealed.rows;
    },
  );
  return (tenantId, events, secret) => run.immediate(tenantId, events, secret);
}

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
      let head = await lockHead(m, tenantId);
      if (!head) {
        await m.query(
          'INSERT INTO audit_chain_heads (tenant_id, seq, hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
          [tenantId, EMPTY_HEAD.seq, EMPTY_HEAD.hash],
        );
        head = (await lockHead(m, tenantId))!;
      }
      const sealed = sealEvents(secret, head, events);
      if (sealed.rows.every(isoTimestamp)) {
        // The whole batch as one JSON parameter: serialising 18 bind parameters a row cost the
        // pg client more CPU than the rest of the append. PostgreSQL casts each field to its
        // column's type (JSON null to NULL), exactly as for the parameters below.
        await m.query(PG_INSERT_JSON, [JSON.stringify(sealed.rows)]);
      } else {
        // A year outside 0–9999 has no plain ISO form: plain multi-row INSERTs with the values
        // TypeORM itself would send.
        for (let i = 0; i < sealed.rows.length; i += PG_ROWS_PER_INSERT) {
          const chunk = sealed.rows.slice(i, i + PG_ROWS_PER_INSERT);
          const params: unknown[] = [];
          for (const record of chunk) pushRowValues(params, record, record.occurred_at);
          await m.query(pgInsertSql(chunk.length), params);
        }
      }
      await m.query('UPDATE audit_chain_heads SET seq = $2, hash = $3 WHERE tenant_id = $1', [
        tenantId,
        sealed.head.seq,
        sealed.head.hash,
      ]);
      return sealed.rows;
    });
  }

  /**
   * SQLite: one synchronous `BEGIN IMMEDIATE` transaction on the raw connection. Synchronous, so
   * nothing else in this process interleaves with it; IMMEDIATE, so another process sharing
   * the file (router + gateway) waits for the write lock instead of racing on the head.
   */
  private appendSqlite(tenantId: string, events: readonly PendingAuditEvent[], secret: AuditSecret) {
    const db = sqliteForWrite(this.ds, 'audit append');
    let append = sqliteAppenders.get(db);
    if (!append) {
      append = sqliteAppender(db);
      sqliteAppenders.set(db, append);
    }
    return Promise.resolve(append(tenantId, events, secret));
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
