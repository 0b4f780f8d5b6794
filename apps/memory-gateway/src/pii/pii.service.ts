import { Injectable } from '@nestjs/common';
import { TenantCrypto } from '@app/crypto';
import { applyPii, type PiiMode } from '@app/pii';
import type { Caller } from '../memories/caller';
import { MemoryAudit } from '../memories/memory-audit';
import { piiBlocked } from '../memories/memory.errors';
import { MemoryMetrics } from '../memories/memory.metrics';
import type { PiiResponseDto } from './pii.dto';

/** The PII API: detection and redaction of a text, with the tenant's key for mode `hash`. */
@Injectable()
export class PiiService {
  constructor(
    private readonly crypto: TenantCrypto,
    private readonly audit: MemoryAudit,
    private readonly metrics: MemoryMetrics,
  ) {}

  async apply(caller: Caller, text: string, mode: PiiMode, returnText: boolean): Promise<PiiResponseDto> {
    const hmacKey = mode === 'hash' ? await this.crypto.piiHashKey(caller.tenantId) : undefined;
    const result = applyPii(text, mode, { hmacKey });
    if (result.summary.length) {
      this.metrics.pii(result.summary, result.action);
      this.audit.record(caller, {
        action: result.blocked ? 'pii.blocked' : 'pii.detected',
        resourceType: 'pii_api',
        resourceId: returnText ? 'redact' : 'detect',
        outcome: result.blocked ? 'denied' : 'success',
        statusCode: result.blocked ? 422 : 200,
        piiSummary: result.summary,
      });
    }
    if (result.blocked) throw piiBlocked(result.summary);
    return {
      ...(returnText ? { text: result.text } : {}),
      mode,
      action: result.action,
      entities: result.entities.map((e) => ({ type: e.type, start: e.start, end: e.end, score: e.score })),
      summary: result.summary.map((s) => ({ type: s.type, count: s.count })),
    };
  }
}
