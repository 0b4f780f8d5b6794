import { budgetKey, type LimitsKeys, limitsKeys } from './limits-keys';
import {
  type AdmitInput,
  type AdmitResult,
  type BudgetRef,
  type BudgetSeed,
  type BudgetStatus,
  type LimitsStore,
  type RateHeaders,
  type RateHeaderValues,
  type RateScopeLimits,
  type RejectKind,
  type ScopeName,
  type SettleInput,
  type SettleResult,
  WINDOW_SECONDS as WINDOW,
} from './limits.types';

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

interface Rejection {
  kind: RejectKind;
  scope: ScopeName;
  retry: number;
}

const NO_LIMITS: RateScopeLimits = Object.freeze({});

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
export class MemoryLimitsStore implements LimitsStore {
  readonly kind = 'memory' as const;
  private readonly windows = new Map<string, Window>();
  private readonly leases = new Map<string, LeaseSet>();
  private readonly budgets = new Map<string, Budget>();
  private readonly keyCache = new Map<string, LimitsKeys>();
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

  /**
   * The eight store keys of a tenant/key/month, built once (admit and settle run per request).
   * Bounded: the cache starts over past 50k distinct combinations.
   */
  private keysFor(tenantId: string, keyId: string | null, month: string): LimitsKeys {
    const id = `${tenantId}\u0000${keyId ?? ''}\u0000${month}`;
    let keys = this.keyCache.get(id);
    if (!keys) {
      if (this.keyCache.size >= 50_000) this.keyCache.clear();
      keys = limitsKeys(tenantId, keyId, month);
      this.keyCache.set(id, keys);
    }
    return keys;
  }

  /** The first limit of one scope the request would break (requests, then tokens, then concurrency). */
  private check(
    scope: ScopeName,
    l: RateScopeLimits,
    w: Window | undefined,
    leases: LeaseSet | undefined,
    tokens: number,
    nowSec: number,
    nowMs: number,
  ): Rejection | null {
    const R = w?.R ?? 0;
    const T = w?.T ?? 0;
    if (l.rpm !== undefined && R + 1 > l.rpm) {
      return {
        kind: 'requests',
        scope,
        retry: l.rpm < 1 ? -1 : this.freedIn(w!, 'r', R + 1 - l.rpm, nowSec, nowMs),
      };
    }
    if (l.tpm !== undefined && T + tokens > l.tpm) {
      return {
        kind: 'tokens',
        scope,
        retry: tokens > l.tpm ? -1 : this.freedIn(w!, 't', T + tokens - l.tpm, nowSec, nowMs),
      };
    }
    if (l.concurrency !== undefined && (leases?.members.size ?? 0) + 1 > l.concurrency) {
      return { kind: 'concurrency', scope, retry: 1000 };
    }
    return null;
  }

  /** A budget that cannot take the reservation; null when it fits (or there is no budget). */
  private checkBudget(
    scope: ScopeName,
    b: Budget | undefined,
    limit: number | undefined,
    reserveNano: number,
    nowMs: number,
  ): Rejection | null {
    if (!b || limit === undefined) return null;
    this.reap(b, nowMs);
    if (b.spent + b.reserved + reserveNano <= limit) return null;
    return { kind: 'budget', scope, retry: b.spent + reserveNano > limit ? -2 : 1000 };
  }

  /** The lowest remaining allowance over the scopes, as x-ratelimit-* reports it. */
  private static lowest(
    current: RateHeaderValues | undefined,
    limit: number | undefined,
    used: number,
    reset: number,
  ): RateHeaderValues | undefined {
    if (limit === undefined) return current;
    const remaining = Math.max(0, limit - used);
    if (current && current.remaining <= remaining) return current;
    return { limit, remaining, resetMs: used > 0 ? reset : 0 };
  }

  private charge(key: string, w: Window | undefined, cutoff: number, nowSec: number, tokens: number): void {
    const win = w ?? { R: 0, T: 0, P: cutoff, buckets: new Map() };
    if (!w) this.windows.set(key, win);
    const b = win.buckets.get(nowSec);
    if (b) {
      b.r += 1;
      b.t += tokens;
    } else {
      win.buckets.set(nowSec, { r: 1, t: tokens });
    }
    win.R += 1;
    win.T += tokens;
  }

  async admit(i: AdmitInput): Promise<AdmitResult> {
    const nowMs = this.now();
    const nowSec = Math.floor(nowMs / 1000);
    const cutoff = nowSec - WINDOW;
    const keys = this.keysFor(i.tenantId, i.keyId, i.month);
    const tBudget = i.tenantBudgetNano === undefined ? undefined : this.budgets.get(keys.tenantBudget);
    if (i.tenantBudgetNano !== undefined && !tBudget) return { status: 'needs_budget', scope: 'tenant' };
    const kBudget = i.keyBudgetNano === undefined ? undefined : this.budgets.get(keys.keyBudget);
    if (i.keyBudgetNano !== undefined && !kBudget) return { status: 'needs_budget', scope: 'key' };

    const tl = i.tenant;
    const kl = i.keyId ? i.key : NO_LIMITS;
    const tRated = tl.rpm !== undefined || tl.tpm !== undefined;
    const kRated = kl.rpm !== undefined || kl.tpm !== undefined;
    const tw = tRated ? this.prune(keys.tenantWindow, cutoff) : undefined;
    const kw = kRated ? this.prune(keys.keyWindow, cutoff) : undefined;
    const tLeases = tl.concurrency !== undefined ? this.inflight(keys.tenantLeases, nowMs) : undefined;
    const kLeases = kl.concurrency !== undefined ? this.inflight(keys.keyLeases, nowMs) : undefined;

    let reject =
      this.check('tenant', tl, tw, tLeases, i.tokens, nowSec, nowMs) ??
      this.check('key', kl, kw, kLeases, i.tokens, nowSec, nowMs);
    // Both budgets are reaped whatever the outcome (expired reservations free themselves).
    const tReject = this.checkBudget('tenant', tBudget, i.tenantBudgetNano, i.reserveNano, nowMs);
    const kReject = this.checkBudget('key', kBudget, i.keyBudgetNano, i.reserveNano, nowMs);
    reject ??= tReject ?? kReject;

    const add = reject ? 0 : 1;
    const addTok = reject ? 0 : i.tokens;
    const reset = WINDOW * 1000 - (nowMs - nowSec * 1000);
    const tR = tw?.R ?? 0;
    const tT = tw?.T ?? 0;
    const kR = kw?.R ?? 0;
    const kT = kw?.T ?? 0;
    const headers: RateHeaders = {};
    const requests = MemoryLimitsStore.lowest(
      MemoryLimitsStore.lowest(undefined, tl.rpm, tR + add, reset),
      kl.rpm,
      kR + add,
      reset,
    );
    const tokens = MemoryLimitsStore.lowest(
      MemoryLimitsStore.lowest(undefined, tl.tpm, tT + addTok, reset),
      kl.tpm,
      kT + addTok,
      reset,
    );
    if (requests) headers.requests = requests;
    if (tokens) headers.tokens = tokens;
    if (reject)
      return {
        status: 'rejected',
        kind: reject.kind,
        scope: reject.scope,
        retryAfterMs: reject.retry,
        headers,
      };

    if (tRated) this.charge(keys.tenantWindow, tw, cutoff, nowSec, i.tokens);
    if (kRated) this.charge(keys.keyWindow, kw, cutoff, nowSec, i.tokens);
    const leaseEnd = nowMs + i.leaseMs;
    tLeases?.add(i.requestId, leaseEnd);
    kLeases?.add(i.requestId, leaseEnd);
    if (i.reserveNano > 0 && (tBudget || kBudget)) {
      const member = `${i.requestId}:${Math.round(i.reserveNano)}`;
      for (const b of [tBudget, kBudget]) {
        if (!b) continue;
        b.reserved += i.reserveNano;
        b.reservations.add(member, leaseEnd);
      }
    }
    return { status: 'admitted', bucketSec: nowSec, headers };
  }

  /** Takes back the part of a token estimate the call did not use (or adds what it overran). */
  private correct(key: string, s: SettleInput, nowSec: number): void {
    const w = this.windows.get(key);
    if (!w || s.tokenDelta === 0 || s.bucketSec <= nowSec - WINDOW || s.bucketSec <= w.P) return;
    const b = w.buckets.get(s.bucketSec);
    if (!b) return;
    const next = b.t + s.tokenDelta;
    const applied = next < 0 ? s.tokenDelta - next : s.tokenDelta;
    b.t = Math.max(0, next);
    w.T = Math.max(0, w.T + applied);
  }

  /** Releases the reservation and adds the real cost (once); the month's spend after it. */
  private settleBudget(key: string, s: SettleInput): number | null {
    const b = this.budgets.get(key);
    if (!b) return null;
    const removed =
      s.reserveNano > 0 && b.reservations.members.delete(`${s.requestId}:${Math.round(s.reserveNano)}`);
    if (removed) b.reserved = Math.max(0, b.reserved - s.reserveNano);
    if (removed || s.firstAttempt) b.spent += Math.round(s.costNano);
    return b.spent;
  }

  async settle(s: SettleInput): Promise<SettleResult> {
    const nowSec = Math.floor(this.now() / 1000);
    const keys = this.keysFor(s.tenantId, s.keyId, s.month);
    if (s.tenantRate) this.correct(keys.tenantWindow, s, nowSec);
    if (s.tenantConcurrency) this.leases.get(keys.tenantLeases)?.members.delete(s.requestId);
    if (s.keyRate) this.correct(keys.keyWindow, s, nowSec);
    if (s.keyConcurrency) this.leases.get(keys.keyLeases)?.members.delete(s.requestId);
    return {
      tenantSpentNano: s.tenantBudget ? this.settleBudget(keys.tenantBudget, s) : null,
      keySpentNano: s.keyBudget ? this.settleBudget(keys.keyBudget, s) : null,
    };
  }

  async initBudget(p: BudgetSeed): Promise<number> {
    const key = budgetKey(p.tenantId, p.scope, p.keyId, p.month);
    let b = this.budgets.get(key);
    if (!b) {
      b = { spent: Math.round(p.spentNano), reserved: 0, reservations: new LeaseSet() };
      this.budgets.set(key, b);
    }
    return b.spent;
  }

  async budgetStatus(p: BudgetRef): Promise<BudgetStatus | null> {
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
