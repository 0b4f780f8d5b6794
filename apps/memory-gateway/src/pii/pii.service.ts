import type { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { TenantCrypto } from '@app/crypto';
import { AtpError, pacedBody } from '@app/common';
import type { PiiMode } from '@app/pii';
import { PiiWorkers } from '@app/pii';
import type { Caller } from '@app/auth';
import { MemoryAudit } from '../memories/memory-audit';
import { piiBlocked } from '../memories/memory.errors';
import { MemoryMetrics } from '../memories/memory.metrics';
import { PII_TEXT_MAX_CHARS } from './pii.dto';

/** The PII API: detection and redaction of a text, with the tenant's key for mode `hash`. */
@Injectable()
export class PiiService {
  constructor(
    private readonly crypto: TenantCrypto,
    private readonly audit: MemoryAudit,
    private readonly metrics: MemoryMetrics,
    private readonly workers: PiiWorkers,
  ) {}

  /**
   * The response body, already serialized: a megabyte of text holds tens of thousands of
   * findings, and turning them into objects and back into JSON on the event loop would stall it
   * as the scan did (the worker serializes them).
   */
  async apply(caller: Caller, text: string, mode: PiiMode, returnText: boolean): Promise<Buffer | Readable> {
    // The work per request is capped: detection is linear, ~0.2 s per MiB on a worker thread.
    if (text.length > PII_TEXT_MAX_CHARS) {
      throw new AtpError(
        413,
        'text_too_large',
        `text has ${text.length} characters; at most ${PII_TEXT_MAX_CHARS} are scanned per request`,
        { param: 'text' },
      );
    }
    const hmacKey = mode === 'hash' ? await this.crypto.piiHashKey(caller.tenantId) : undefined;
    const result = await this.workers.apply(
      text,
      mode,
      { hmacKey },
      returnText ? 'response+text' : 'response',
    );
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
    const body = result.response!;
    return pacedBody(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  }
}
