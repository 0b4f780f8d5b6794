import { Injectable } from '@nestjs/common';
import { AtpError } from '@app/common';
import { TenantCrypto } from '@app/crypto';
import {
  type PiiAction,
  type PiiEntity,
  PiiError,
  type PiiJsonResult,
  type PiiMode,
  type PiiTypeCount,
  PiiWorkers,
} from '@app/pii';
import { PiiPolicy } from '../pii/pii-policy.service';
import type { Caller } from '@app/auth';
import { MemoryAudit } from './memory-audit';
import { piiBlocked } from './memory.errors';
import { MemoryMetrics } from './memory.metrics';
import type { RecordLocation } from './memory.types';

export interface WriteContent {
  value: unknown;
  metadata: Record<string, unknown> | null;
  tags: string[];
}

export interface HandledContent {
  content: WriteContent;
  mode: PiiMode;
  action: PiiAction;
  summary: PiiTypeCount[];
}

/**
 * PII detection before storage: value, metadata and tags go through the mode that applies
 * (namespace, key, tenant, default `redact`). Findings are measured and audited as types and
 * counts; in mode `block` the write is refused with 422.
 */
@Injectable()
export class MemoryPii {
  constructor(
    private readonly policy: PiiPolicy,
    private readonly crypto: TenantCrypto,
    private readonly audit: MemoryAudit,
    private readonly metrics: MemoryMetrics,
    private readonly workers: PiiWorkers,
  ) {}

  async handle(caller: Caller, at: RecordLocation, content: WriteContent): Promise<HandledContent> {
    const mode = await this.policy.modeFor({ ...at, keyPiiMode: caller.keyLimits?.piiMode ?? null });
    const hmacKey = mode === 'hash' ? await this.crypto.piiHashKey(at.tenantId) : undefined;
    const result = await this.applyJson(content, mode, hmacKey);
    const resourceId = `${at.namespace}/${at.key}`;
    if (result.summary.length) {
      this.metrics.pii(result.summary, result.action);
      this.audit.record(caller, {
        action: result.blocked ? 'pii.blocked' : 'pii.detected',
        resourceId,
        outcome: result.blocked ? 'denied' : 'success',
        statusCode: result.blocked ? 422 : 200,
        piiSummary: result.summary,
      });
    }
    if (result.blocked) throw piiBlocked(result.summary);
    return { content: result.value as WriteContent, mode, action: result.action, summary: result.summary };
  }

  /**
   * The query as the index sees values under the same mode:
   * - `off` and `detect` store text unchanged, so the query stays unchanged;
   * - `hash`: PII becomes its keyed digest, so the same value (and only it) is found;
   * - `redact`, `mask`, `block`: PII is dropped from the query. Stored values hold no such PII,
   *   and turning it into a placeholder (or a mask's last four digits) would match every record
   *   that held some other value of that type.
   */
  async handleQuery(tenantId: string, namespace: string, caller: Caller, query: string): Promise<string> {
    const mode = await this.policy.modeFor({
      tenantId,
      namespace,
      keyPiiMode: caller.keyLimits?.piiMode ?? null,
    });
    if (mode === 'off' || mode === 'detect') return query;
    if (mode === 'hash') {
      const hmacKey = await this.crypto.piiHashKey(tenantId);
      return (await this.workers.apply(query, 'hash', { hmacKey })).text;
    }
    return withoutEntities(query, (await this.workers.apply(query, 'detect')).entities);
  }

  private async applyJson(
    value: unknown,
    mode: PiiMode,
    hmacKey: Buffer | undefined,
  ): Promise<PiiJsonResult> {
    try {
      // Only the summary is stored and audited: no entity objects cross back to this loop.
      return await this.workers.applyJson(value, mode, { hmacKey }, 'none');
    } catch (err) {
      if (err instanceof PiiError && err.code === 'PII_JSON_TOO_DEEP') {
        throw AtpError.badRequest('value_too_deep', err.message, 'value');
      }
      throw err;
    }
  }
}

/** Each finding replaced by a space, so the words around it stay apart. */
function withoutEntities(text: string, entities: readonly PiiEntity[]): string {
  let out = '';
  let cursor = 0;
  for (const e of entities) {
    out += `${text.slice(cursor, e.start)} `;
    cursor = e.end;
  }
  return out + text.slice(cursor);
}
