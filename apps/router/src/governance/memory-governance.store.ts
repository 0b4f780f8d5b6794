import { budgetKey, governanceKeys } from './governance-keys';
import {
  type AdmitInput,
  type AdmitResult,
  type BudgetStatus,
  type GovernanceStore,
  type RateHeaders,
  type RateScopeLimits,
  type RejectKind,
  type ScopeName,
  type SettleInput,
  type SettleResult,
  WINDOW_SECONDS as WINDOW,
} from './governance.types';

interface Window {
  R: number;
  T: number;
  /** Last second already subtracted from R/T. */
  P: number;
  buckets: Map<number, { r: number; t: number }>;
}

/** Members with an expiry; expired ones are only looked for once the earliest expiry has passed. */
class LeaseSet {
  readonly members = new Map<string, number>();
  private earliest = Infinity;

  add(member: string, expiresAt: number): void {
    this.members.set(member, expiresAt);
    if (expiresAt < this.earliest) this.earliest = expiresAt;
  }

  /** Removes the expired members and returns them. */
  expire(nowMs: number): string[] {
    if (nowMs < this.earliest) return [];
    const gone: string[] = [];
    let earliest = Infinity;
    for (const [m, exp] of this.members) {
      if (exp <= nowMs) {
        this.members.delete(m);
        gone.push(m);
      } else if (exp < earliest) earliest = exp;
    }
    this.earliest = earliest;
    return gone;
  }
}

interface Budget {
  spent: number;
  reserved: number;
  /** member `reqId:amount` → lease expiry (ms) */
  reservations: LeaseSet;
}

/**
 * The in-process equivalent of the Lua scripts (embedded default, one replica): the same
 * sliding window, leases and reservations, atomic because each call runs to completion on the
 * event loop without awaiting.
 */
export class MemoryGovernanceStore implements GovernanceStore {
  readonly kind = 'memory' as const;
  private readonly windows = new Map<string, Window>();
  private readonly leases = new Map<string, LeaseSet>();
  private readonly budgets = new Map<string, Budget>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(), WINDOW * 1000).unref();
  }

  available(): boolean {
    return true;
  }

  private prune(key: string, cutoff: number): Window | undefined {
    const w = this.windows.get(key);
    if (!w) return undefined;
    if (cutoff - w.P >= WINDOW) {
      this.windows.delete(key);
      return undefined;
    }
    for (let s = w.P + 1; s <= cutoff; s++) {
      const b = w.buckets.get(s);
      if (!b) continue;
      w.R = Math.max(0, w.R - b.r);
      w.T = Math.max(0, w.T - b.t);
      w.buckets.delete(s);
    }
    w.P = Math.max(w.P, cutoff);
    return w;
  }

  private freedIn(w: Window, field: 'r' | 't', excess: number, nowSec: number, nowMs: number): number {
    let acc = 0;
    for (let s = nowSec - WINDOW + 1; s <= nowSec; s++) {
      acc += w.buckets.get(s)?.[field] ?? 0;
      if (acc >= excess) return (s + WINDOW) * 1000 - nowMs;
    }
    return WINDOW * 1000;
  }

  private inflight(key: string, nowMs: number): LeaseSet {
    let m = this.leases.get(key);
    if (!m) {
      m = new LeaseSet();
      this.leases.set(key, m);
    }
    m.expire(nowMs);
    return m;
  }

  private reap(b: Budget, nowMs: number): void {
    for (const member of b.reservations.expire(nowMs)) {
      b.reserved = Math.max(0, b.reserved - Number(member.slice(member.lastIndexOf(':') + 1)));
    }
  }

  async admit(i: AdmitInput): Promise<AdmitResult> {
    const nowMs = this.now();
    const nowSec = Math.floor(nowMs / 1000);
    const cutoff = nowSec - WINDOW;
    const keys = governanceKeys(i.tenantId, i.keyId, i.month);
    const budgets = [
      { key: keys[4], limit: i.tenantBudgetNano },
      { key: keys[6], limit: i.keyBudgetNano },
    ];
    for (const [j, bg] of budgets.entries()) {
      if (bg.limit !== undefined && !this.budgets.has(bg.key))
        return { status: 'needs_budget', scope: j === 0 ? 'tenant' : 'key' };
    }
    const scopes = [
      { rl: keys[0], cc: keys[1], l: i.tenant },
      { rl: keys[2], cc: keys[3], l: i.keyId ? i.key : ({} as RateScopeLimits) },
    ].map((sc) => {
      const rated = sc.l.rpm !== undefined || sc.l.tpm !== undefined;
      const w = rated ? this.prune(sc.rl, cutoff) : undefined;
      const leases = sc.l.concurrency !== undefined ? this.inflight(sc.cc, nowMs) : undefined;
      return { ...sc, rated, w, R: w?.R ?? 0, T: w?.T ?? 0, leases, C: leases?.members.size ?? 0 };
    });

    let reject: { kind: RejectKind; scope: ScopeName; retry: number } | null = null;
    for (const [idx, sc] of scopes.entries()) {
      if (reject) break;
      const scope: ScopeName = idx === 0 ? 'tenant' : 'key';
      const { rpm, tpm, concurrency } = sc.l;
      if (rpm !== undefined && sc.R + 1 > rpm) {
        reject = {
          kind: 'requests',
          scope,
          retry: rpm < 1 ? -1 : this.freedIn(sc.w!, 'r', sc.R + 1 - rpm, nowSec, nowMs),
        };
      } else if (tpm !== undefined && sc.T + i.tokens > tpm) {
        reject = {
          kind: 'tokens',
          scope,
          retry: i.tokens > tpm ? -1 : this.freedIn(sc.w!, 't', sc.T + i.tokens - tpm, nowSec, nowMs),
        };
      } else if (concurrency !== undefined && sc.C + 1 > concurrency) {
        reject = { kind: 'concurrency', scope, retry: 1000 };
      }
    }
    for (const [j, bg] of budgets.entries()) {
      if (bg.limit === undefined) continue;
      const b = this.budgets.get(bg.key)!;
      this.reap(b, nowMs);
      if (!reject && b.spent + b.reserved + i.reserveNano > bg.limit) {
        reject = {
          kind: 'budget',
          scope: j === 0 ? 'tenant' : 'key',
          retry: b.spent + i.reserveNano > bg.limit ? -2 : 1000,
        };
      }
    }

    const add = reject ? 0 : 1;
    const addTok = reject ? 0 : i.tokens;
    const reset = WINDOW * 1000 - (nowMs - nowSec * 1000);
    const headers: RateHeaders = {};
    for (const sc of scopes) {
      if (sc.l.rpm !== undefined) {
        const remaining = Math.max(0, sc.l.rpm - sc.R - add);
        if (!headers.requests || remaining < headers.requests.remaining) {
          headers.requests = { limit: sc.l.rpm, remaining, resetMs: sc.R + add > 0 ? reset : 0 };
        }
      }
      if (sc.l.tpm !== undefined) {
        const remaining = Math.max(0, sc.l.tpm - sc.T - addTok);
        if (!headers.tokens || remaining < headers.tokens.remaining) {
          headers.tokens = { limit: sc.l.tpm, remaining, resetMs: sc.T + addTok > 0 ? reset : 0 };
        }
      }
    }
    if (reject)
      return {
        status: 'rejected',
        kind: reject.kind,
        scope: reject.scope,
        retryAfterMs: reject.retry,
        headers,
      };

    for (const sc of scopes) {
      if (sc.rated) {
        const w = sc.w ?? { R: 0, T: 0, P: cutoff, buckets: new Map() };
        this.windows.set(sc.rl, w);
        const b = w.buckets.get(nowSec) ?? { r: 0, t: 0 };
        b.r += 1;
        b.t += i.tokens;
        w.buckets.set(nowSec, b);
        w.R += 1;
        w.T += i.tokens;
      }
      sc.leases?.add(i.requestId, nowMs + i.leaseMs);
    }
    for (const bg of budgets) {
      if (bg.limit === undefined || i.reserveNano <= 0) continue;
      const b = this.budgets.get(bg.key)!;
      b.reserved += i.reserveNano;
      b.reservations.add(`${i.requestId}:${Math.round(i.reserveNano)}`, nowMs + i.leaseMs);
    }
    return { status: 'admitted', bucketSec: nowSec, headers };
  }

  async settle(s: SettleInput): Promise<SettleResult> {
    const nowSec = Math.floor(this.now() / 1000);
    const keys = governanceKeys(s.tenantId, s.keyId, s.month);
    const correct = (key: string) => {
      const w = this.windows.get(key);
      if (!w || s.tokenDelta === 0 || s.bucketSec <= nowSec - WINDOW || s.bucketSec <= w.P) return;
      const b = w.buckets.get(s.bucketSec);
      if (!b) return;
      const next = b.t + s.tokenDelta;
      const applied = next < 0 ? s.tokenDelta - next : s.tokenDelta;
      b.t = Math.max(0, next);
      w.T = Math.max(0, w.T + applied);
    };
    const settleBudget = (key: string): number | null => {
      const b = this.budgets.get(key);
      const member = `${s.requestId}:${Math.round(s.reserveNano)}`;
      const removed = s.reserveNano > 0 && b ? b.reservations.members.delete(member) : false;
      if (!b) return null;
      if (removed) b.reserved = Math.max(0, b.reserved - s.reserveNano);
      if (removed || s.firstAttempt) b.spent += Math.round(s.costNano);
      return b.spent;
    };
    if (s.tenantRate) correct(keys[0]);
    if (s.tenantConcurrency) this.leases.get(keys[1])?.members.delete(s.requestId);
    if (s.keyRate) correct(keys[2]);
    if (s.keyConcurrency) this.leases.get(keys[3])?.members.delete(s.requestId);
    return {
      tenantSpentNano: s.tenantBudget ? settleBudget(keys[4]) : null,
      keySpentNano: s.keyBudget ? settleBudget(keys[6]) : null,
    };
  }

  async initBudget(p: {
    tenantId: string;
    scope: ScopeName;
    keyId: string | null;
    month: string;
    spentNano: number;
  }): Promise<number> {
    const key = budgetKey(p.tenantId, p.scope, p.keyId, p.month);
    let b = this.budgets.get(key);
    if (!b) {
      b = { spent: Math.round(p.spentNano), reserved: 0, reservations: new LeaseSet() };
      this.budgets.set(key, b);
    }
    return b.spent;
  }

  async budgetStatus(p: {
    tenantId: string;
    scope: ScopeName;
    keyId: string | null;
    month: string;
  }): Promise<BudgetStatus | null> {
    const b = this.budgets.get(budgetKey(p.tenantId, p.scope, p.keyId, p.month));
    return b ? { spentNano: b.spent, reservedNano: b.reserved } : null;
  }

  /** Drops windows and lease sets that hold nothing any more (bounded memory). */
  private sweep(): void {
    const nowMs = this.now();
    const cutoff = Math.floor(nowMs / 1000) - WINDOW;
    for (const key of [...this.windows.keys()]) this.prune(key, cutoff);
    for (const [key, m] of this.leases) {
      m.expire(nowMs);
      if (!m.members.size) this.leases.delete(key);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }
}
