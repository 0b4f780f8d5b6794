import type { DataSource } from 'typeorm';
import type { AuditService } from '@app/audit';
import type { Caller } from '@app/auth';
import type { KeyRingEntry } from '@app/config';
import { DataKeyRepository, TenantCrypto } from '@app/crypto';
import { SqlRunner } from '@app/database';
import { INDEX_FORMAT, MemoryCodec } from './memory.codec';
import { MemoryReindexRepository, type RebuiltIndex, type StaleRecord } from './memory-reindex.repository';
import type { StoredRecord } from './memory.types';

export interface ReindexResult {
  tenants: number;
  /** Records found indexed in an older format. */
  records: number;
  /** Records whose index was rebuilt. */
  reindexed: number;
  /** Records written or deleted while this ran (their writer indexed them in the current format). */
  skipped: number;
  /** Records that could not be decrypted (left as they were; see the error count in the audit event). */
  failed: number;
}

/** Records read per page (keys only; one UNION ALL of look-ups loads a batch, within SQLite's 500). */
const PAGE = 200;
/** Stored bytes decrypted and rebuilt per transaction at most (one larger record goes alone). */
const BATCH_BYTES = 4 * 1024 * 1024;

/**
 * `atp memory reindex`: rebuilds the search index (words and tags) of records written in an
 * older index format — before redaction placeholders were left out, or before any later change of
 * {@link INDEX_FORMAT} — from their stored values, exactly as a PUT of the same value indexes it.
 *
 * Bounded memory: pages of record locations, and at most BATCH_BYTES of values decrypted at once.
 * Resumable and idempotent: a rebuilt record is marked with the current format, and each run only
 * picks records still behind, so an interrupted run continues where it stopped and a second run
 * finds nothing. Safe beside a running gateway: a record written meanwhile is left to its writer.
 * Each tenant's run is an audit event (`memory.reindex`) in its chain.
 */
export class MemoryReindexer {
  constructor(
    private readonly repository: MemoryReindexRepository,
    private readonly codec: MemoryCodec,
    private readonly audit: AuditService,
    private readonly format = INDEX_FORMAT,
  ) {}

  /** Every tenant with records behind the current format, one after another. */
  async reindexAll(actor: Caller, progress?: (tenantId: string, result: ReindexResult) => void) {
    const total: ReindexResult = { tenants: 0, records: 0, reindexed: 0, skipped: 0, failed: 0 };
    for (let after = ''; ;) {
      const tenantId = await this.repository.nextTenantBehind(after, this.format);
      if (tenantId === null) return total;
      const one = await this.reindexTenant(tenantId, actor);
      progress?.(tenantId, one);
      for (const k of ['tenants', 'records', 'reindexed', 'skipped', 'failed'] as const) total[k] += one[k];
      after = tenantId;
    }
  }

  async reindexTenant(tenantId: string, actor: Caller): Promise<ReindexResult> {
    const result: ReindexResult = { tenants: 1, records: 0, reindexed: 0, skipped: 0, failed: 0 };
    try {
      for (let ns = await this.next(tenantId, ''); ns !== null; ns = await this.next(tenantId, ns)) {
        await this.reindexNamespace(tenantId, ns, result);
      }
    } catch (err) {
      this.record(tenantId, actor, 'failure');
      throw err;
    }
    this.record(tenantId, actor, result.failed ? 'failure' : 'success');
    return result;
  }

  private next(tenantId: string, after: string): Promise<string | null> {
    return this.repository.nextNamespaceBehind(tenantId, after, this.format);
  }

  private async reindexNamespace(tenantId: string, namespace: string, result: ReindexResult): Promise<void> {
    for (let after = ''; ;) {
      const page = await this.repository.findBehind(tenantId, namespace, {
        after,
        format: this.format,
        limit: PAGE,
      });
      for (const batch of batches(page)) await this.reindexBatch(tenantId, namespace, batch, result);
      if (page.length < PAGE) return;
      after = page[page.length - 1]!.key;
    }
  }

  private async reindexBatch(
    tenantId: string,
    namespace: string,
    batch: StaleRecord[],
    result: ReindexResult,
  ): Promise<void> {
    result.records += batch.length;
    const stored = await this.repository.findRecords(
      tenantId,
      namespace,
      batch.map((r) => r.key),
    );
    const rebuilt: RebuiltIndex[] = [];
    for (const record of stored) {
      const index = await this.rebuild(record);
      if (index) rebuilt.push(index);
      else result.failed++;
    }
    const replaced = rebuilt.length
      ? await this.repository.replaceIndexes(tenantId, namespace, rebuilt, this.format)
      : 0;
    result.reindexed += replaced;
    result.skipped += batch.length - replaced - (stored.length - rebuilt.length);
  }

  /** The index a PUT of the stored value and tags writes; null when the record cannot be decrypted. */
  private async rebuild(record: StoredRecord): Promise<RebuiltIndex | null> {
    try {
      const [value, attrs] = await Promise.all([
        this.codec.openValue(record),
        this.codec.openAttributes(record),
      ]);
      return {
        key: record.key,
        version: record.version,
        tokens: await this.codec.searchTokens(record.tenantId, value),
        tags: await this.codec.tagHashes(record.tenantId, attrs.tags),
      };
    } catch {
      // Altered or unreadable ciphertext: leave the row behind (a later run retries it).
      return null;
    }
  }

  private record(tenantId: string, actor: Caller, outcome: 'success' | 'failure'): void {
    void this.audit.record({
      tenantId,
      action: 'memory.reindex',
      actorType: actor.type === 'api_key' ? 'api_key' : 'user',
      actorId: actor.subject,
      credentialId: actor.credentialId,
      resourceType: 'memory_index',
      resourceId: null,
      outcome,
      requestId: actor.requestId,
      sourceIp: actor.sourceIp,
    });
  }
}

/** A page split into batches of at most BATCH_BYTES of stored values (a larger record alone). */
function batches(page: readonly StaleRecord[]): StaleRecord[][] {
  const out: StaleRecord[][] = [];
  let bytes = 0;
  for (const record of page) {
    const last = out[out.length - 1];
    if (!last || bytes + record.sizeBytes > BATCH_BYTES) {
      out.push([record]);
      bytes = record.sizeBytes;
    } else {
      last.push(record);
      bytes += record.sizeBytes;
    }
  }
  return out;
}

/** The reindexer over a DataSource, without Nest (for the CLI). */
export function memoryReindexer(
  dataSource: DataSource,
  keyRing: readonly KeyRingEntry[],
  audit: AuditService,
): MemoryReindexer {
  const dataKeys = new DataKeyRepository(new SqlRunner(dataSource));
  const codec = new MemoryCodec(new TenantCrypto(keyRing, dataKeys), dataKeys);
  return new MemoryReindexer(new MemoryReindexRepository(new SqlRunner(dataSource)), codec, audit);
}
