/**
 * The contract between the governance service and its stores (Redis, in-process). Amounts of
 * money are integer nano-dollars (1e-9 USD) so that concurrent increments never drift.
 */

/** Length of the rate window: limits are "per minute". */
export const WINDOW_SECONDS = 60;

/** Limits of one scope (the tenant, or one API key). Absent = not enforced. */
export interface RateScopeLimits {
  rpm?: number;
  tpm?: number;
  concurrency?: number;
}

export type ScopeName = 'tenant' | 'key';

export interface AdmitInput {
  tenantId: string;
  /** Key id when the caller is an API key; key limits and key budget apply to it. */
  keyId: string | null;
  /** Unique per request: the lease member of the concurrency slot and the budget reservation. */
  requestId: string;
  tenant: RateScopeLimits;
  key: RateScopeLimits;
  /** Estimated tokens charged to tokens-per-minute up front. */
  tokens: number;
  /** Worst-case cost reserved against the budgets. */
  reserveNano: number;
  /** Budget limits in nano-USD; undefined = no budget. */
  tenantBudgetNano?: number;
  keyBudgetNano?: number;
  /** Budget period, `YYYY-MM` (UTC). */
  month: string;
  /** A concurrency slot / reservation left behind by a crashed replica expires after this. */
  leaseMs: number;
}

export interface RateHeaderValues {
  limit: number;
  remaining: number;
  /** Milliseconds until the window holds nothing of what is counted now. */
  resetMs: number;
}

export interface RateHeaders {
  requests?: RateHeaderValues;
  tokens?: RateHeaderValues;
}

export type RejectKind = 'requests' | 'tokens' | 'concurrency' | 'budget';

export type AdmitResult =
  | { status: 'admitted'; bucketSec: number; headers: RateHeaders }
  | {
      status: 'rejected';
      kind: RejectKind;
      scope: ScopeName;
      /** ms; -1 = never within the window (request larger than the limit); -2 = not this period. */
      retryAfterMs: number;
      headers: RateHeaders;
    }
  /** The budget total of this scope/month is not in the store: rebuild it from the database first. */
  | { status: 'needs_budget'; scope: ScopeName };

export interface SettleInput {
  tenantId: string;
  keyId: string | null;
  requestId: string;
  month: string;
  /** The window bucket the admission charged. */
  bucketSec: number;
  /** Real tokens − estimated tokens (negative refunds). */
  tokenDelta: number;
  /** Which scopes the admission charged. */
  tenantRate: boolean;
  keyRate: boolean;
  tenantConcurrency: boolean;
  keyConcurrency: boolean;
  tenantBudget: boolean;
  keyBudget: boolean;
  reserveNano: number;
  costNano: number;
  /** False on a retry: the spend is then only added if the reservation is still there (idempotence). */
  firstAttempt: boolean;
}

export interface SettleResult {
  /** Month spend after settling, nano-USD (null when that budget is not tracked). */
  tenantSpentNano: number | null;
  keySpentNano: number | null;
}

export interface BudgetStatus {
  spentNano: number;
  reservedNano: number;
}

/** One budget total: a tenant's or one key's, for one month. */
export interface BudgetRef {
  tenantId: string;
  scope: ScopeName;
  keyId: string | null;
  month: string;
}

/** A budget total to seed from the usage ledger when the store has none. */
export interface BudgetSeed extends BudgetRef {
  spentNano: number;
}

/** Where counters live. One round trip per call on Redis; atomic on both. */
export interface LimitsStore {
  readonly kind: 'redis' | 'memory';
  /** True when a call would reach the store now (Redis connected); never waits. */
  available(): boolean;
  admit(input: AdmitInput): Promise<AdmitResult>;
  settle(input: SettleInput): Promise<SettleResult>;
  /** Seeds a budget total if it is absent (first use, new month, Redis restarted). Returns the total. */
  initBudget(params: BudgetSeed): Promise<number>;
  budgetStatus(params: BudgetRef): Promise<BudgetStatus | null>;
  close(): Promise<void>;
}

export const LIMITS_STORE = Symbol('LIMITS_STORE');
