import { Injectable } from '@nestjs/common';
import { AtpError } from '@app/common';
import { DataKeyDestroyedError } from '@app/crypto';
import type { Caller } from '@app/auth';
import { type MemoryOp, MemoryMetrics, outcomeOf } from './memory.metrics';
import { MemoryAudit } from './memory-audit';
import { MemoryCache } from './memory.cache';
import { MemoryCodec } from './memory.codec';
import type {
  ListMemoryQueryDto,
  PutMemoryDto,
  RecordDto,
  RecordSummaryDto,
  WrittenRecordDto,
} from './memory.dto';
import { recordNotFound, tooLarge } from './memory.errors';
import { assertName, assertPrefix, decodeListCursor, encodeListCursor, parseIfMatch } from './memory-names';
import { MemoryPii } from './memory-pii';
import { MemoryRepository } from './memory.repository';
import { MemoryWriteRepository } from './memory-write.repository';
import { MemorySettings } from './memory.settings';
import { isLive, type RecordLocation, type RecordSummary, type StoredRecord } from './memory.types';

/** A write sealed under a key an erasure destroyed is sealed again once (see put). */
const PUT_SEAL_ATTEMPTS = 2;

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function toSummaryDto(r: RecordSummary): RecordSummaryDto {
  return {
    namespace: r.namespace,
    key: r.key,
    version: r.version,
    created_at: iso(r.createdAt)!,
    updated_at: iso(r.updatedAt)!,
    expires_at: iso(r.expiresAt),
    size_bytes: r.sizeBytes,
  };
}

/** Validated location of a record of the caller's tenant (names are checked before anything else). */
export function locate(caller: Caller, namespace: string, key: string): RecordLocation {
  return {
    tenantId: caller.tenantId,
    namespace: assertName(namespace, 'namespace'),
    key: assertName(key, 'key'),
  };
}

/**
 * Memory records: put, get, delete and list, each audited and measured. The tenant always comes
 * from the caller's credential, never from the request, so no name reaches another tenant's rows.
 */
@Injectable()
export class MemoriesService {
  constructor(
    private readonly repository: MemoryRepository,
    private readonly writes: MemoryWriteRepository,
    private readonly cache: MemoryCache,
    private readonly codec: MemoryCodec,
    private readonly pii: MemoryPii,
    private readonly audit: MemoryAudit,
    private readonly metrics: MemoryMetrics,
    private readonly settings: MemorySettings,
  ) {}

  async put(
    caller: Caller,
    names: { namespace: string; key: string },
    body: PutMemoryDto,
    ifMatchHeader: string | string[] | undefined,
  ): Promise<{ created: boolean; record: WrittenRecordDto }> {
    const at = locate(caller, names.namespace, names.key);
    const ifMatch = parseIfMatch(ifMatchHeader);
    this.assertSizes(body);
    return this.tracked('put', caller, 'memory.write', at, async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.putOnce(caller, at, body, ifMatch);
        } catch (err) {
          // An erasure destroyed the data key this write was sealed (and PII-hashed) under before
          // it committed: seal again under the tenant's new key. Once more at most.
          if (!(err instanceof DataKeyDestroyedError) || attempt >= PUT_SEAL_ATTEMPTS) throw err;
          this.codec.forget(at.tenantId);
        }
      }
    });
  }

  private async putOnce(
    caller: Caller,
    at: RecordLocation,
    body: PutMemoryDto,
    ifMatch: number | '*' | null,
  ): Promise<{ value: { created: boolean; record: WrittenRecordDto }; status: number }> {
    const handled = await this.pii.handle(caller, at, {
      value: body.value,
      metadata: body.metadata ?? null,
      tags: body.tags ?? [],
    });
    const { dataKeyId, tokens, tags, ...sealed } = await this.codec.seal(at, handled.content);
    const now = Date.now();
    const expiresAt = body.ttl_seconds ? now + body.ttl_seconds * 1000 : null;
    const result = await this.writes.putRecord({
      record: { ...at, ...sealed, expiresAt },
      dataKeyId,
      tokens,
      tags,
      ifMatch,
      now,
      quota: { records: this.settings.quotaRecords, bytes: this.settings.quotaBytes },
    });
    await this.cache.put({ ...at, ...sealed, ...result, expiresAt }, now);
    const record: WrittenRecordDto = {
      ...toSummaryDto({ ...at, ...result, sizeBytes: sealed.sizeBytes, expiresAt }),
      pii: {
        action: handled.action,
        entities: handled.summary.map((s) => ({ type: s.type, count: s.count })),
      },
    };
    return { value: { created: result.created, record }, status: result.created ? 201 : 200 };
  }

  async get(caller: Caller, names: { namespace: string; key: string }): Promise<RecordDto> {
    const at = locate(caller, names.namespace, names.key);
    return this.tracked('get', caller, 'memory.read', at, async () => {
      const now = Date.now();
      const cached = await this.cache.get(at, now);
      if (cached) {
        try {
          return { value: await this.open(cached), status: 200 };
        } catch (err) {
          // A cached copy of an erased tenant's record: ask the database.
          if (!(err instanceof DataKeyDestroyedError)) throw err;
        }
      }
      const record = await this.repository.findRecord(at);
      if (!record || !isLive(record, now)) throw recordNotFound(at.namespace, at.key);
      const dto = await this.open(record);
      await this.cache.put(record, now);
      return { value: dto, status: 200 };
    });
  }

  async delete(
    caller: Caller,
    names: { namespace: string; key: string },
    ifMatchHeader: string | string[] | undefined,
  ): Promise<void> {
    const at = locate(caller, names.namespace, names.key);
    const ifMatch = parseIfMatch(ifMatchHeader);
    await this.tracked('delete', caller, 'memory.delete', at, async () => {
      const now = Date.now();
      const deleted = await this.writes.deleteRecord(at, ifMatch, now);
      if (deleted !== 'absent') await this.cache.deleted(at.tenantId, [at], now);
      if (deleted !== 'live') throw recordNotFound(at.namespace, at.key);
      return { value: undefined, status: 204 };
    });
  }

  async deleteNamespace(caller: Caller, namespace: string): Promise<{ deleted: number }> {
    const ns = assertName(namespace, 'namespace');
    const at = { tenantId: caller.tenantId, namespace: ns, key: null };
    return this.tracked('delete_namespace', caller, 'memory.delete', at, async () => {
      const now = Date.now();
      const { keys, live } = await this.writes.deleteNamespace(caller.tenantId, ns, now);
      await this.cache.deleted(
        caller.tenantId,
        keys.map((key) => ({ namespace: ns, key })),
        now,
      );
      return { value: { deleted: live }, status: 200 };
    });
  }

  async list(
    caller: Caller,
    namespace: string,
    query: ListMemoryQueryDto,
  ): Promise<{ items: RecordSummaryDto[]; next_cursor: string | null }> {
    const ns = assertName(namespace, 'namespace');
    const prefix = assertPrefix(query.prefix);
    const limit = query.limit === undefined ? 100 : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw AtpError.badRequest('invalid_limit', 'limit must be an integer from 1 to 1000', 'limit');
    }
    const afterKey = decodeListCursor(query.cursor);
    return this.tracked('list', caller, 'memory.read', { namespace: ns, key: null }, async () => {
      const tag =
        query.tag === undefined
          ? null
          : ((await this.codec.tagHashes(caller.tenantId, [query.tag]))[0] ?? null);
      const rows = await this.repository.listRecords({
        tenantId: caller.tenantId,
        namespace: ns,
        prefix,
        tag,
        afterKey,
        limit: limit + 1,
        now: Date.now(),
      });
      const items = rows.slice(0, limit);
      const next = rows.length > limit ? encodeListCursor(items[items.length - 1]!.key) : null;
      return { value: { items: items.map(toSummaryDto), next_cursor: next }, status: 200 };
    });
  }

  /** 413 before any work: the value and metadata as the client sent them. */
  private assertSizes(body: PutMemoryDto): void {
    if (body.value === undefined) throw AtpError.badRequest('invalid_request', 'value is required', 'value');
    const valueBytes = Buffer.byteLength(JSON.stringify(body.value));
    if (valueBytes > this.settings.maxValueBytes)
      throw tooLarge('value', valueBytes, this.settings.maxValueBytes);
    const metadataBytes = body.metadata ? Buffer.byteLength(JSON.stringify(body.metadata)) : 0;
    if (metadataBytes > this.settings.maxMetadataBytes) {
      throw tooLarge('metadata', metadataBytes, this.settings.maxMetadataBytes);
    }
  }

  /** Decrypts a stored record into its API shape. */
  async open(record: StoredRecord): Promise<RecordDto> {
    const [value, attrs] = await Promise.all([
      this.codec.openValue(record),
      this.codec.openAttributes(record),
    ]);
    return { ...toSummaryDto(record), value, tags: attrs.tags, metadata: attrs.metadata };
  }

  /** Times, counts and audits one operation; failures are audited with the status the client gets. */
  async tracked<T>(
    op: MemoryOp,
    caller: Caller,
    action: 'memory.write' | 'memory.read' | 'memory.delete' | 'memory.search',
    at: { namespace: string; key: string | null },
    fn: () => Promise<{ value: T; status: number }>,
  ): Promise<T> {
    const startedAt = performance.now();
    const resourceId = at.key === null ? at.namespace : `${at.namespace}/${at.key}`;
    try {
      const { value, status } = await fn();
      this.metrics.observe(op, 'success', startedAt);
      this.audit.record(caller, { action, resourceId, outcome: 'success', statusCode: status });
      return value;
    } catch (err) {
      this.metrics.observe(op, outcomeOf(err), startedAt);
      this.audit.failure(caller, action, resourceId, err);
      throw err;
    }
  }
}
