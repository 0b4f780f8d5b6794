import { Injectable } from '@nestjs/common';
import { AtpError } from '@app/common';
import { counter, histogram } from '@app/observability';
import type { PiiTypeCount } from '@app/pii';

export type MemoryOp = 'put' | 'get' | 'delete' | 'delete_namespace' | 'list' | 'search' | 'erase';

/** Bounded outcome label of an operation. */
export function outcomeOf(err: unknown): string {
  if (!(err instanceof AtpError)) return 'error';
  if (err.status === 404) return 'not_found';
  if (err.status === 412) return 'precondition_failed';
  if (err.status === 413) return 'too_large';
  if (err.status === 422) return 'pii_blocked';
  if (err.status === 429) return 'quota_exceeded';
  return err.status < 500 ? 'invalid' : 'error';
}

@Injectable()
export class MemoryMetrics {
  private readonly operations = counter({
    name: 'atp_memory_operations_total',
    help: 'Memory API operations, by operation and outcome',
    labelNames: ['op', 'outcome'],
  });
  private readonly seconds = histogram({
    name: 'atp_memory_operation_seconds',
    help: 'Duration of memory API operations (database, cache and crypto included)',
    labelNames: ['op'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  });
  private readonly piiEntities = counter({
    name: 'atp_pii_entities_total',
    help: 'PII entities found in memory writes and PII API calls, by type and the action taken',
    labelNames: ['type', 'action'],
  });

  observe(op: MemoryOp, outcome: string, startedAt: number): void {
    this.operations.inc({ op, outcome });
    this.seconds.observe({ op }, (performance.now() - startedAt) / 1000);
  }

  pii(summary: readonly PiiTypeCount[], action: string): void {
    for (const s of summary) this.piiEntities.inc({ type: s.type, action }, s.count);
  }
}
