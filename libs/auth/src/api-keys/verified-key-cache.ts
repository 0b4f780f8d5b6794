import type { ApiKeyRecord } from './api-key.repository';

interface Entry {
  /** null: no active key has this hash (unknown or revoked). */
  record: ApiKeyRecord | null;
  storedAt: number;
}

/**
 * Lookups of API keys by hash, kept in memory for `ttlMs` so the hot path needs no database
 * round trip. Negative results are cached too (safe: a new key's hash cannot have been asked
 * for before it existed). Bounded: the oldest entry goes first. Pure, clock injected.
 */
export class VerifiedKeyCache {
  private readonly byHash = new Map<string, Entry>();
  private readonly hashById = new Map<string, string>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  /** undefined: not cached (or stale); null: cached as "no such active key". */
  get(hash: string): ApiKeyRecord | null | undefined {
    const e = this.byHash.get(hash);
    if (!e) return undefined;
    if (this.now() - e.storedAt >= this.ttlMs) {
      this.deleteHash(hash);
      return undefined;
    }
    return e.record;
  }

  set(hash: string, record: ApiKeyRecord | null): void {
    this.deleteHash(hash);
    while (this.byHash.size >= this.maxEntries) {
      const oldest = this.byHash.keys().next();
      if (oldest.done) break;
      this.deleteHash(oldest.value);
    }
    this.byHash.set(hash, { record, storedAt: this.now() });
    if (record) this.hashById.set(record.id, hash);
  }

  /** A revoked key: forget it so the next request goes to the database. */
  evictKey(keyId: string): void {
    const hash = this.hashById.get(keyId);
    if (hash !== undefined) this.deleteHash(hash);
  }

  get size(): number {
    return this.byHash.size;
  }

  private deleteHash(hash: string): void {
    const e = this.byHash.get(hash);
    if (!e) return;
    this.byHash.delete(hash);
    if (e.record && this.hashById.get(e.record.id) === hash) this.hashById.delete(e.record.id);
  }
}
