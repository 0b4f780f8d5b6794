import { AtpError } from '@app/common';
import type { PiiTypeCount } from '@app/pii';

/** 404: the record does not exist or has expired. */
export function recordNotFound(namespace: string, key: string): AtpError {
  return AtpError.notFound('memory_not_found', `No memory record "${key}" in namespace "${namespace}"`);
}

/** 412: If-Match did not match the record's current version. */
export function versionMismatch(expected: number | '*', current: number | null): AtpError {
  const now = current === null ? 'the record does not exist' : `its current version is ${current}`;
  return new AtpError(412, 'version_mismatch', `If-Match expected version ${expected}, but ${now}`, {
    param: 'If-Match',
  });
}

/** 413: a value or metadata object over its size limit. */
export function tooLarge(param: 'value' | 'metadata', size: number, limit: number): AtpError {
  return new AtpError(
    413,
    `${param}_too_large`,
    `${param} is ${size} bytes as JSON; the limit is ${limit} bytes`,
    { param },
  );
}

export type QuotaName = 'records' | 'bytes';

/** 429: the tenant's memory quota would be exceeded by this write. */
export function quotaExceeded(quota: QuotaName, limit: number, used: number, adding: number): AtpError {
  const what =
    quota === 'records'
      ? `record-count quota (${limit} records per tenant; ${used} stored)`
      : `storage quota (${limit} bytes per tenant; ${used} used, this write adds ${adding})`;
  return new AtpError(
    429,
    'memory_quota_exceeded',
    `Memory ${what} exceeded: delete records or ask for a higher quota`,
    {
      param: quota,
      // The quota frees up only when records are deleted or expire; a retry later may succeed.
      headers: { 'retry-after': '60' },
    },
  );
}

/** 422: PII found while the mode is `block`. Types and counts only, never the text. */
export function piiBlocked(summary: readonly PiiTypeCount[]): AtpError {
  const found = summary.map((s) => `${s.type} x${s.count}`).join(', ');
  return new AtpError(422, 'pii_blocked', `The request holds PII (${found}) and the PII mode is block`);
}
