import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import { AtpError, BatchQueue } from '@app/common';
import { SqliteBusyError } from '@app/database';
import { BufferPressure, counter, histogram } from '@app/observability';
import { ChainVerifier } from './audit-chain';
import { decodeCursor, encodeCursor, toAuditEventDto, toPendingEvent } from './audit-event.mapper';
import { AUDIT_OPTIONS, type AuditOptions, auditSecretList } from './audit.options';
import { AuditRepository } from './audit.repository';
import {
  AUDIT_ACTIONS,
  type AuditEventDto,
  type AuditEventInput,
  type AuditPage,
  type AuditQuery,
  type AuditSecret,
  type ChainVerification,
  type PendingAuditEvent,
} from './audit.types';

interface Queued {
  event: PendingAuditEvent;
  enqueuedAt: number;
  /** A write of this event was attempted and failed: it may have committed all the same. */
  attempted?: boolean;
}

const PAGE = 500;
/**
 * Retries of a failing write back off up to 1 s: one cheap failed connection a second during an
 * outage, and events are written (and durable again) within a second of the database's return
 * rather than up to 10 s later, when a crash would still lose them.
 */
const MAX_BACKOFF_MS = 1_000;
/** Longest `record(…, { durable: true })` waits for the commit while the database is up but slow. */
const DURABLE_WAIT_MS = 1_000;
const RESOLVED = Promise.resolve();

/**
 * The audit log: `record` enqueues (off the request's critical path) into a {@link BatchQueue}
 * that writes small batches into each tenant's hash chain, in the order they were recorded;
 * shutdown flushes what is left.
 *
 * The queue is bounded by admission, not by waiting or dropping: at `maxQueue` events the service
 * refuses new requests with 503 (BufferPressure, checked before a request makes any event), while
 * the requests already in flight still enqueue theirs. So nothing acknowledged is dropped, and
 * memory stays bounded by `maxQueue` plus the events of the requests in flight (an earlier design
 * parked callers in an unbounded list of waiters instead, which grew ~2 MB/s in an outage).
 *
 * `record(…, { durable: true })` starts a write after the current event-loop turn and resolves
 * when the event is committed (calls finishing together share one transaction), at most
 * DURABLE_WAIT_MS, at once while writes fail.
 */
@Injectable()
export class AuditService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly secrets: AuditSecret[];
  private readonly clock: () => Date;
  private readonly queue: BatchQueue<Queued>;
  private readonly events = counter({
    name: 'atp_audit_events_total',
    help: 'Audit events written to the hash chain, by action and outcome',
    labelNames: ['action', 'outcome'],
  });
  private readonly lag = histogram({
    name: 'atp_audit_write_lag_seconds',
    help: 'Time from recording an audit event to its commit in the chain',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  });

  constructor(
    private readonly repository: AuditRepository,
    @Inject(AUDIT_OPTIONS) private readonly options: AuditOptions,
    @Optional() pressure?: BufferPressure,
  ) {
    this.secrets = auditSecretList(options.auditSecret);
    this.clock = options.clock ?? (() => new Date());
    this.queue = new BatchQueue({
      name: 'audit_events',
      write: (batch, written) => this.append(batch, written),
      maxBatch: options.batchSize ?? 500,
      flushEveryMs: options.flushIntervalMs ?? 250,
      limit: options.maxQueue ?? 10_000,
      pressure: options.enabled ? pressure : undefined,
      // Another caller's transaction holds SQLite's connection for a moment: not an outage.
      isTransient: (err) => err instanceof SqliteBusyError,
      maxBackoffMs: MAX_BACKOFF_MS,
      closeTimeoutMs: options.shutdownTimeoutMs ?? 5_000,
      onWritten: (items) => this.observeWritten(items),
    });
  }

  get enabled(): boolean {
    return this.options.enabled;
  }

  /** Events waiting to be written. */
  get pending(): number {
    return this.queue.depth;
  }

  /** At its bound: new requests should be refused (BufferPressure does it for the HTTP apps). */
  get full(): boolean {
    return this.queue.full;
  }

  onModuleInit(): void {
    this.start();
  }

  /** Starts the background writer (Nest calls this; plain users call it once). */
  start(): void {
    if (this.options.enabled) this.queue.start();
  }

  /**
   * Enqueues an event; never blocks on the database and never drops it. Resolves at once, or with
   * `durable` once the event is committed (at most DURABLE_WAIT_MS; at once while writes fail).
   * Never rejects.
   * @throws AuditEventInvalidError synchronously for a programming error (unknown action, no tenant).
   */
  record(input: AuditEventInput, options?: { durable?: boolean }): Promise<void> {
    if (!this.options.enabled) return RESOLVED;
    const item = { event: toPendingEvent(input, this.clock()), enqueuedAt: performance.now() };
    if (options?.durable) return this.queue.addAndWait(item, { maxWaitMs: DURABLE_WAIT_MS, soon: true });
    this.queue.add(item);
    return RESOLVED;
  }

  /** Writes everything recorded so far. Rejects if the database refuses (events stay queued). */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  /** Stops the writer and flushes, retrying until `shutdownTimeoutMs`; later events are written at once. */
  close(): Promise<void> {
    return this.queue.close();
  }

  /** Before the DataSource closes (TypeORM closes it in onApplicationShutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /** A page of the tenant's events, newest first. */
  async list(tenantId: string, query: AuditQuery = {}): Promise<AuditPage> {
    const limit = query.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw AtpError.badRequest('invalid_limit', 'limit must be an integer from 1 to 1000', 'limit');
    }
    checkQuery(query);
    const beforeSeq = query.cursor ? decodeCursor(query.cursor) : null;
    const rows = await this.repository.listNewestFirst(tenantId, {
      filters: query,
      beforeSeq,
      limit: limit + 1,
    });
    const items = rows.slice(0, limit);
    return {
      items: items.map(toAuditEventDto),
      next_cursor: rows.length > limit ? encodeCursor(items[items.length - 1].seq) : null,
    };
  }

  /** Walks the tenant's chain in seq order (in pages) up to its recorded head. */
  async verify(tenantId: string): Promise<ChainVerification> {
    const head = await this.repository.findHead(tenantId);
    const verifier = new ChainVerifier(this.secrets);
    for (let afterSeq = 0; ;) {
      const rows = await this.repository.pageBySeq(tenantId, {
        afterSeq,
        maxSeq: head?.seq,
        limit: PAGE * 2,
      });
      for (const row of rows) if (!verifier.check(row)) return verifier.result(head);
      if (rows.length < PAGE * 2) return verifier.result(head);
      afterSeq = rows[rows.length - 1].seq;
    }
  }

  /** The tenant's events oldest first, streamed page by page (never all in memory). */
  async *exportEvents(tenantId: string, query: AuditQuery = {}): AsyncGenerator<AuditEventDto> {
    checkQuery(query);
    const filters = { start: query.start, end: query.end, action: query.action, actor: query.actor };
    for (let afterSeq = 0; ;) {
      const rows = await this.repository.pageBySeq(tenantId, { afterSeq, limit: PAGE, filters });
      for (const row of rows) yield toAuditEventDto(row);
      if (rows.length < PAGE) return;
      afterSeq = rows[rows.length - 1].seq;
    }
  }

  /** NDJSON lines (each ends with `\n`) of {@link exportEvents}, for a streamed HTTP response. */
  async *export(tenantId: string, query: AuditQuery = {}): AsyncGenerator<string> {
    for await (const event of this.exportEvents(tenantId, query)) yield `${JSON.stringify(event)}\n`;
  }

  /**
   * One transaction per tenant in the batch, in the order recorded; each committed tenant is
   * reported, so a failure of one tenant's chain retries only that tenant's events. A failed
   * write's outcome is not always known (a connection lost after its COMMIT was sent), so the
   * retry of an event skips it if it is already in the chain: written once, never stuck.
   */
  private async append(batch: Queued[], written: (part: readonly Queued[]) => void): Promise<void> {
    for (const [tenantId, items] of groupByTenant(batch)) {
      const retry = items.some((i) => i.attempted);
      try {
        await this.repository.appendToChain(
          tenantId,
          items.map((i) => i.event),
          this.secrets[0],
          { retry },
        );
      } catch (err) {
        for (const item of items) item.attempted = true;
        throw err;
      }
      written(items);
    }
  }

  private observeWritten(items: readonly Queued[]): void {
    const now = performance.now();
    // One counter increment per label set (a label lookup costs more than the increment).
    let action = items[0].event.action;
    let outcome = items[0].event.outcome;
    let run = 0;
    for (const { event, enqueuedAt } of items) {
      if (event.action !== action || event.outcome !== outcome) {
        this.events.inc({ action, outcome }, run);
        action = event.action;
        outcome = event.outcome;
        run = 0;
      }
      run += 1;
      this.lag.observe((now - enqueuedAt) / 1000);
    }
    this.events.inc({ action, outcome }, run);
  }
}

function groupByTenant(items: Queued[]): Map<string, Queued[]> {
  const groups = new Map<string, Queued[]>();
  // The common case (one tenant per batch, e.g. a single-tenant deployment): no per-item lookups.
  const first = items[0].event.tenant_id;
  if (items.every((i) => i.event.tenant_id === first)) return groups.set(first, items);
  for (const item of items) {
    const list = groups.get(item.event.tenant_id);
    if (list) list.push(item);
    else groups.set(item.event.tenant_id, [item]);
  }
  return groups;
}

function checkQuery(query: AuditQuery): void {
  if (query.action && !(AUDIT_ACTIONS as readonly string[]).includes(query.action)) {
    throw AtpError.badRequest(
      'invalid_action',
      `action must be one of ${AUDIT_ACTIONS.join(', ')}`,
      'action',
    );
  }
  for (const field of ['start', 'end'] as const) {
    const d = query[field];
    if (d !== undefined && (!(d instanceof Date) || Number.isNaN(d.getTime()))) {
      throw AtpError.badRequest(`invalid_${field}`, `${field} must be an ISO-8601 date-time`, field);
    }
  }
}
