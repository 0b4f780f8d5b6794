import type { DataSource } from 'typeorm';
import type { KeyRingEntry } from '@app/config';
import { DataKeyRepository, KeyRingError, rewrapDataKey } from '@app/crypto';
import { SqlRunner } from '@app/database';

export interface RotateKekResult {
  /** Data keys read and authenticated. */
  checked: number;
  /** Data keys re-wrapped under the primary ring key. */
  rewrapped: number;
  /** Data keys already wrapped by the primary (authenticated, left as they were). */
  unchanged: number;
  /** Data keys changed or erased by someone else while this ran (run again to pick them up). */
  skipped: number;
  primaryKekId: string;
}

const PAGE = 200;

/**
 * KEK rotation (`npm run atp -- keys rotate-kek`): re-wraps every tenant data key under the key
 * ring's primary key. Values and the blind index are untouched (the data keys do not change),
 * so every record stays readable. Run it after putting the new key FIRST in ENCRYPTION_KEY while
 * keeping the old ones; once it reports no skips, the old ring keys may be removed.
 * @throws DecryptionError when a stored data key cannot be unwrapped (unknown or corrupt ring key).
 */
export async function rotateKek(
  dataSource: DataSource,
  keyRing: readonly KeyRingEntry[],
): Promise<RotateKekResult> {
  const primary = keyRing[0];
  if (!primary) throw new KeyRingError();
  const keys = new DataKeyRepository(new SqlRunner(dataSource));
  const result: RotateKekResult = {
    checked: 0,
    rewrapped: 0,
    unchanged: 0,
    skipped: 0,
    primaryKekId: primary.id,
  };
  for (let after: { tenantId: string; dataKeyId: string } | null = null; ;) {
    const page = await keys.listPage(after, PAGE);
    for (const stored of page) {
      const next = rewrapDataKey(keyRing, stored, stored.wrapped);
      result.checked++;
      if (!next.changed && stored.kekId === next.kekId) {
        result.unchanged++;
      } else if (await keys.replaceWrapped(stored, next)) {
        result.rewrapped++;
      } else {
        result.skipped++;
      }
    }
    if (page.length < PAGE) return result;
    const last = page[page.length - 1]!;
    after = { tenantId: last.tenantId, dataKeyId: last.dataKeyId };
  }
}
