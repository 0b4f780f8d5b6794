import { Logger } from '@nestjs/common';
import { counter, gauge } from './metrics';

export interface OutageLog {
  warn(message: string): void;
  log(message: string): void;
}

export interface DependencyOutageOptions {
  /** How often a summary with counts is logged while the outage lasts. */
  summaryEveryMs?: number;
  /** How often {@link DependencyOutage.setProbe}'s probe runs while down. */
  probeEveryMs?: number;
  now?: () => number;
  log?: OutageLog;
}

/**
 * One dependency's outage as the logs and metrics tell it: a WARN line when it starts, a summary
 * with counts every `summaryEveryMs` while it lasts, one line when it ends — never a line per
 * failed request (a 60 s PostgreSQL outage once wrote 133,264 ERROR lines). Requests refused
 * meanwhile are counted (`refused`), not logged. `atp_dependency_up{dependency}` is 0 during it.
 *
 * Who decides that an outage starts and ends: either the reporter's own probe
 * ({@link setProbe}: any failure starts the outage, the probe, run in the background, ends it)
 * or holders (e.g. each Redis connection's health tracker: `failed(err, false, holder)` starts
 * it, and it ends when every holder has called `recovered(holder)`). Without either, a failure
 * is only counted: nothing could tell the outage's end.
 */
export class DependencyOutage {
  private downSince: number | null = null;
  private refusedTotal = 0;
  private refusedSinceSummary = 0;
  private errorsSinceSummary = 0;
  private summaryTimer: NodeJS.Timeout | null = null;
  private probeTimer: NodeJS.Timeout | null = null;
  private probe: (() => Promise<void>) | null = null;
  private probing = false;
  private readonly holders = new Set<object>();
  private readonly summaryEveryMs: number;
  private readonly probeEveryMs: number;
  private readonly now: () => number;
  private readonly log: OutageLog;
  private readonly up = gauge({
    name: 'atp_dependency_up',
    help: '0 while this process sees the dependency (postgresql, redis) as down, else 1',
    labelNames: ['dependency'],
  });
  private readonly refusedMetric = counter({
    name: 'atp_dependency_refused_total',
    help: 'Requests answered 503 (or served degraded) because a dependency was down',
    labelNames: ['dependency'],
  });

  constructor(
    readonly name: string,
    options: DependencyOutageOptions = {},
  ) {
    this.summaryEveryMs = options.summaryEveryMs ?? 30_000;
    this.probeEveryMs = options.probeEveryMs ?? 1_000;
    this.now = options.now ?? Date.now;
    this.log = options.log ?? new Logger('Dependencies');
    this.up.set({ dependency: name }, 1);
  }

  get isDown(): boolean {
    return this.downSince !== null;
  }

  /** How the dependency's return is noticed when no caller says so: resolves once it answers. */
  setProbe(probe: (() => Promise<void>) | null): void {
    this.probe = probe;
    if (this.isDown) this.startProbing();
  }

  /**
   * A failure of the dependency (a connection error, a timeout). The first one starts the
   * outage and is logged (given a probe or a `holder`, see the class); later ones are only
   * counted. `refused`: a request was answered 503 (or served degraded) because of it.
   */
  failed(err: unknown, refused = false, holder?: object): void {
    if (refused) {
      this.refusedTotal++;
      this.refusedSinceSummary++;
      this.refusedMetric.inc({ dependency: this.name });
    }
    if (holder) this.holders.add(holder);
    if (this.downSince !== null) {
      this.errorsSinceSummary++;
      return;
    }
    if (!holder && !this.probe) return;
    this.downSince = this.now();
    this.up.set({ dependency: this.name }, 0);
    this.log.warn(`${this.name} unavailable (${describe(err)}): answering 503 or degrading until it returns`);
    this.summaryTimer = setInterval(() => this.summary(), this.summaryEveryMs);
    this.summaryTimer.unref();
    this.startProbing();
  }

  /** A request refused while the outage is already known (no new error to look at). */
  refused(): void {
    this.failed(new Error('refused while down'), true);
  }

  /** The dependency answers again (to `holder`, when given): logs the end with the outage's totals. */
  recovered(holder?: object): void {
    if (holder) {
      this.holders.delete(holder);
      if (this.holders.size) return;
    }
    if (this.downSince === null) return;
    const seconds = ((this.now() - this.downSince) / 1000).toFixed(1);
    this.log.log(
      `${this.name} available again after ${seconds} s (${this.refusedTotal} requests refused or degraded meanwhile)`,
    );
    this.downSince = null;
    this.refusedTotal = this.refusedSinceSummary = this.errorsSinceSummary = 0;
    this.up.set({ dependency: this.name }, 1);
    this.stopTimers();
  }

  /** Stops the timers (process shutdown). */
  close(): void {
    this.stopTimers();
  }

  private summary(): void {
    if (this.downSince === null) return;
    const seconds = Math.round((this.now() - this.downSince) / 1000);
    this.log.warn(
      `${this.name} still unavailable after ${seconds} s: ${this.refusedSinceSummary} requests refused or degraded ` +
        `and ${this.errorsSinceSummary} more errors in the last ${Math.round(this.summaryEveryMs / 1000)} s ` +
        `(${this.refusedTotal} refused in all)`,
    );
    this.refusedSinceSummary = this.errorsSinceSummary = 0;
  }

  private startProbing(): void {
    if (!this.probe || this.probeTimer || this.downSince === null) return;
    this.probeTimer = setInterval(() => void this.runProbe(), this.probeEveryMs);
    this.probeTimer.unref();
  }

  private async runProbe(): Promise<void> {
    if (!this.probe || this.probing) return;
    this.probing = true;
    try {
      await this.probe();
      this.recovered();
    } catch {
      /* still down: the next summary says so */
    } finally {
      this.probing = false;
    }
  }

  private stopTimers(): void {
    if (this.summaryTimer) clearInterval(this.summaryTimer);
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.summaryTimer = this.probeTimer = null;
  }
}

/** The error's code and first line: never a query text or parameters (they may hold user data). */
function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? `${e.code}: ` : '';
  const message = typeof e?.message === 'string' ? e.message.split('\n')[0].slice(0, 200) : String(err);
  return code + message;
}

const outages = new Map<string, DependencyOutage>();

/**
 * The process's one reporter per dependency (`PostgreSQL`, `Redis`), shared by everything that
 * talks to it, so an outage is logged once however many callers see it.
 */
export function dependencyOutage(name: string): DependencyOutage {
  let o = outages.get(name);
  if (!o) {
    o = new DependencyOutage(name);
    outages.set(name, o);
  }
  return o;
}
