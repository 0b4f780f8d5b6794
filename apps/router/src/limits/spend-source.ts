/**
 * Where a budget's month-to-date spend comes from when the limits store does not hold it (first
 * use, a new month, Redis lost it). The limits feature depends only on this port; usage
 * implements it from its rows (UsageModule provides {@link SPEND_SOURCE}).
 */
export interface SpendSource {
  /**
   * USD the tenant (or, with `keyId`, one of its API keys) spent since `since`, counting every
   * call recorded so far (rows still queued are written first).
   */
  spentUsdSince(tenantId: string, keyId: string | null, since: Date): Promise<number>;
}

export const SPEND_SOURCE = Symbol('SPEND_SOURCE');
