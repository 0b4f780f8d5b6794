import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import { AtpError } from '@app/common';
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
}

const PAGE = 500;
/**
 * Retries of a failing write back off up to 1 s: one cheap failed connection a second during an
 * outage, and events are written (and durable again) within a second of the database's return
 * rather than up to 10 s later, when a crash would still lose them.
 */
const MAX_BACKOFF_MS = 1_000;
const BUSY_WAIT_MS = 2_000;
/** Longest `record(…, { durable: true })` waits for the commit while the database is up but slow. */
const DURABLE_WAIT_MS = 1_000;
const RESOLVED = Promise.resolve();

/**
 * The audit log: `record` enqueues (off the request's critical path), a background loop writes
 * small batches into each tenant's hash chain, shutdown flushes what is left.
 *
 * The queue is bounded by admission, not by waiting or dropping: at `maxQueue` events the service
 * refuses new requests with 503 (BufferPressure, checked before a request makes any event), while
 * the requests already in flight still enqueue theirs. So nothing acknowledged is dropped, and
 * memory stays bounded by `maxQueue` plus the events of the requests in flight (an earlier design
 * parked callers in an unbounded list of waiters instead, which grew ~2 MB/s in an outage).
 *
 * `record(…, { durable: true })` writes at once and resolves when the event is committed (calls
 * finishing together share one transaction), at most DURABLE_WAIT_MS, at once while writes fail.
 */
@Injectable()
export class AuditService implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger('Audit');
  private readonly secrets: AuditSecret[];
  private readonly batchSize: number;
  private readonly maxQueue: number;
  private readonly clock: () => Date;
  /** Queued events are `queue[queueHead…]`: the written front is dropped lazily (no O(n) shift per batch). */
  private queue: Queued[] = [];
  private queueHead = 0;
  /** Events whose caller awaits their commit. */
  private readonly commits = new Map<Queued, () => void>();
  private draining: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private backoffMs = 0;
  private closed = false;
  private tickScheduled = false;
  private retryAt = 0;
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
    this.batchSize = options.batchSize ?? 500;
    this.maxQueue = options.maxQueue ?? 10_000;
    this.clock = options.clock ?? (() => new Date());
    if (options.enabled)
      pressure?.register({ name: 'audit_events', limit: this.maxQueue, depth: () => this.pending });
  }

  get enabled(): boolean {
    return this.options.enabled;
  }

  /** Events waiting to be written. */
  get pending(): number {
    return this.queue.length - this.queueHead;
  }

  /** At its bound: new requests should be refused (BufferPressure does it for the HTTP apps). */
  get full(): boolean {
    return this.pending >= this.maxQueue;
  }

  onModuleInit(): void {
    this.start();
  }

  /** Starts the background writer (Nest calls this; plain users call it once). */
  start(): void {
    if (this.timer || this.closed || !this.options.enabled) return;
    this.timer = setInterval(() => this.tick(), this.options.flushIntervalMs ?? 250);
    this.timer.unref();
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
    this.queue.push(item);
    const queued = this.queue.length - this.queueHead;
    // A failing database (backing off): the event waits in the queue, the caller does not.
    if (options?.durable && !this.closed && Date.now() >= this.retryAt) {
      const committed = new Promise<void>((resolve) => this.commits.set(item, resolve));
      this.tickSoon();
      return waitAtMost(committed, DURABLE_WAIT_MS);
    }
    // After close() no timer runs: write late events right away.
    if (queued >= this.batchSize || this.closed) this.tick();
    return RESOLVED;
  }

  /** Writes everything recorded so far. Rejects if the database refuses (events stay queued). */
  async flush(): Promise<void> {
    const busyUntil = Date.now() + BUSY_WAIT_MS;
    while (this.pending) {
      try {
        await this.drain();
      } catch (err) {
        // SQLite: another caller's transaction holds the shared connection; it ends soon.
        if (!(err instanceof SqliteBusyError) || Date.now() > busyUntil) throw err;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  }

  /** Stops the writer and flushes, retrying until `shutdownTimeoutMs`. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const deadline = Date.now() + (this.options.shutdownTimeoutMs ?? 5_000);
    for (let attempt = 0; this.pending; attempt++) {
      try {
        await this.flush();
      } catch (err) {
        if (Date.now() >= deadline) {
          this.logger.error(
            `could not write ${this.pending} audit events before shutdown: ${(err as Error).message}`,
          );
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 1_000)));
      }
    }
  }

  /** Before the DataSource closes (TypeORM closes it in onApplicationShutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.close();
    this.releaseCommits();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
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

  /** Alias of {@link verify}. */
  verifyChain(tenantId: string): Promise<ChainVerification> {
    return this.verify(tenantId);
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
   * A write after the current event-loop turn: the durable events of every call finishing in that
   * turn share one commit (started at once, SQLite committed each event alone).
   */
  private tickSoon(): void {
    if (this.tickScheduled) return;
    this.tickScheduled = true;
    setImmediate(() => {
      this.tickScheduled = false;
      this.tick();
    });
  }

  private tick(): void {
    if (!this.pending || Date.now() < this.retryAt) return;
    // A drain in progress takes what is queued now in its next batch (a group commit).
    if (this.draining) return;
    this.drain().then(
      () => {
        this.backoffMs = 0;
      },
      (err: unknown) => {
        if (err instanceof SqliteBusyError) {
          // Another caller holds SQLite's connection for a moment: retry soon for waiting callers.
          if (this.commits.size) setTimeout(() => this.tick(), 5).unref();
          return;
        }
        this.releaseCommits();
        this.backoffMs = Math.min(Math.max(this.backoffMs * 2, 250), MAX_BACKOFF_MS);
        this.retryAt = Date.now() + this.backoffMs;
        this.logger.warn(`audit write failed, retrying in ${this.backoffMs} ms: ${(err as Error).message}`);
      },
    );
  }

  private drain(): Promise<void> {
    this.draining ??= this.drainLoop().finally(() => {
      this.draining = null;
    });
    return this.draining;
  }

  private async drainLoop(): Promise<void> {
    while (this.queue.length > this.queueHead) {
      const batch = this.queue.slice(this.queueHead, this.queueHead + this.batchSize);
      let writtenCount = 0;
      let written: Set<Queued> | null = null;
      try {
        const groups = groupByTenant(batch);
        for (const [tenantId, items] of groups) {
          const rows = await this.repository.appendToChain(
            tenantId,
            items.map((i) => i.event),
            this.secrets[0],
          );
          this.observeWritten(items, rows.length);
          if (this.commits.size) this.committed(items);
          writtenCount += items.length;
          if (groups.size > 1) for (const item of items) (written ??= new Set()).add(item);
        }
      } finally {
        if (writtenCount === batch.length) this.dropWritten(batch.length);
        else if (written) this.removeWritten(batch.length, written);
      }
    }
  }

  /** The batch at the front of the queue was written in full. */
  private dropWritten(count: number): void {
    this.queueHead += count;
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.queueHead >= 1024 && this.queueHead * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  /** Some tenants of the front batch were written, others failed: keep the rest, in order. */
  private removeWritten(batchLength: number, written: Set<Queued>): void {
    const front = this.queue
      .slice(this.queueHead, this.queueHead + batchLength)
      .filter((q) => !written.has(q));
    this.queue = front.concat(this.queue.slice(this.queueHead + batchLength));
    this.queueHead = 0;
  }

  private observeWritten(items: Queued[], count: number): void {
    const now = performance.now();
    const n = Math.min(count, items.length);
    if (!n) return;
    // One counter increment per label set (a label lookup costs more than the increment).
    let action = items[0].event.action;
    let outcome = items[0].event.outcome;
    let run = 0;
    for (let i = 0; i < n; i++) {
      const { event, enqueuedAt } = items[i];
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

  private committed(items: Queued[]): void {
    for (const item of items) {
      const resolve = this.commits.get(item);
      if (!resolve) continue;
      this.commits.delete(item);
      resolve();
    }
  }

  /** Writes are failing: nobody waits for a commit that will not come soon (events stay queued). */
  private releaseCommits(): void {
    for (const resolve of this.commits.values()) resolve();
    this.commits.clear();
  }
}

/** `promise`, or nothing after `ms` (the caller goes on; what it waited for happens later). */
function waitAtMost(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
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
