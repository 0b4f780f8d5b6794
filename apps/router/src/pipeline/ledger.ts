import { Injectable } from '@nestjs/common';
import type { Caller } from '@app/auth';
import type { Usage } from '@app/providers';
import { AdmissionService, type AdmissionTicket } from '../limits/admission.service';
import type { CatalogModel } from '../routing/catalog';
import { CALL_ACTIONS, CallAuditService } from '../usage/call-audit.service';
import { UsageRecorder } from '../usage/usage-recorder';
import type { Door } from './call';
import { pipelineMetrics as m, metricChildren as mc } from './pipeline.metrics';

/** How a call ended, as recorded. */
export type CallOutcome = 'ok' | 'error' | 'refused' | 'client_closed' | 'shutdown';

/** The call being closed: who made it, through which door, and what it reserved. */
export interface LedgerEntry {
  door: Door;
  caller: Caller;
  /** Date.now() when the request arrived. */
  started: number;
  /** The alias or model the client asked for (the route's name once routed). */
  route: string;
  /** The admission to settle; null when the call was refused before it was admitted. */
  ticket: AdmissionTicket | null;
  /** Set by the ledger: a call is closed exactly once. */
  closed?: boolean;
}

export interface CallEnd {
  status: number;
  outcome: CallOutcome;
  /** The model that answered (or the first candidate of a failed call); null: no model was reached. */
  model: CatalogModel | null;
  usage: Usage;
  costUsd: number;
  attempts: number;
  stream: boolean;
  ttftMs: number | null;
  cached: boolean;
}

/**
 * Closes every call exactly once — success, refusal, failure, hang-up, a cut stream or a
 * shutdown alike: the budget settles at the real cost, then the usage row is queued (in that
 * order, so a budget rebuilt from the rows never counts a call twice), the audit event is
 * written, and the call is counted. A call that reached no model gets no usage row (its audit
 * event says why it was refused). With ATP_DURABLE_RECORDS the returned promise resolves once
 * the row and the event are committed; the door answers after it.
 */
@Injectable()
export class Ledger {
  constructor(
    private readonly admission: AdmissionService,
    private readonly usage: UsageRecorder,
    private readonly audit: CallAuditService,
  ) {}

  close(entry: LedgerEntry, end: CallEnd): Promise<void> {
    if (entry.closed) return Promise.resolve();
    entry.closed = true;
    const u = end.usage;
    const latencyMs = Date.now() - entry.started;
    if (entry.ticket) this.admission.settle(entry.ticket, u.prompt_tokens + u.completion_tokens, end.costUsd);
    mc.calls(entry.door, end.outcome).inc();
    let written: Promise<void> = Promise.resolve();
    if (end.model) {
      mc.tokens('input').inc(u.prompt_tokens);
      mc.tokens('output').inc(u.completion_tokens);
      m.cost.inc(end.costUsd);
      const c = entry.caller;
      written = this.usage.record({
        tenantId: c.tenantId,
        apiKeyId: c.type === 'api_key' ? c.credentialId : null,
        subject: c.subject,
        endpoint: entry.door,
        route: entry.route,
        provider: end.model.provider,
        model: end.model.id,
        promptTokens: u.prompt_tokens,
        completionTokens: u.completion_tokens,
        totalTokens: u.prompt_tokens + u.completion_tokens,
        costUsd: end.costUsd,
        latencyMs,
        ttftMs: end.ttftMs,
        status: end.status,
        outcome: end.outcome,
        cached: end.cached,
        estimated: Boolean(u.estimated),
        stream: end.stream,
        attempts: end.attempts,
        requestId: c.requestId ?? '',
      });
    }
    const audited = this.audit.call(
      {
        caller: entry.caller,
        action: CALL_ACTIONS[entry.door],
        status: end.status,
        route: entry.route,
        provider: end.model?.provider ?? null,
        model: end.model?.id ?? null,
        promptTokens: u.prompt_tokens,
        completionTokens: u.completion_tokens,
        costUsd: end.costUsd,
        latencyMs,
      },
      this.usage.durable,
    );
    return this.usage.durable ? Promise.all([written, audited]).then(() => undefined) : written;
  }
}
