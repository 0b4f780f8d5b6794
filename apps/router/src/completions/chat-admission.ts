import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '@app/auth';
import { mapError } from '@app/common';
import { type ChatRequest, estimatePromptTokens, type Usage } from '@app/providers';
import { AdmissionService, type AdmissionTicket } from '../governance/admission.service';
import { CallAuditService } from '../governance/call-audit.service';
import { GovernanceService } from '../governance/governance.service';
import { chatPromptTokenBound } from '../governance/prompt-bound';
import { type LoadedSession, SessionMemoryClient } from '../governance/session-memory.client';
import { lastUserText, selectWindow, withHistory } from '../governance/session-window';
import type { CatalogModel } from '../routing/catalog';
import { type RoutePlan, RoutingService } from '../routing/routing.service';

/** What a chat request carries from admission to its end. */
export interface AdmittedChat {
  /** The body the provider sees: PII policy applied, session history prepended. */
  body: ChatRequest;
  plan: RoutePlan;
  ticket: AdmissionTicket;
  /** Governance headers (x-atp-pii, x-atp-session, x-ratelimit-*), also written on the SSE head. */
  headers: Record<string, string>;
  requestId: string;
  sourceIp: string | null;
  /** x-atp-session-id: the session and the user turn to append once answered. */
  session: { loaded: LoadedSession; userTurn: string | null } | null;
}

/** The request a chat call belongs to (the completions service's per-request scope is one). */
export interface ChatCall {
  principal: Principal;
  admitted: AdmittedChat;
  route: string;
  started: number;
}

export interface ChatOutcome {
  status: number;
  model: CatalogModel | null;
  usage: Usage;
  cost: number;
}

/**
 * The governance steps of a chat completion, around the provider call: before it, the
 * allow-list (403), the prompt PII policy (422), session history, rate limits and budget (429);
 * after it, settlement, the call's audit event, and the session's new turns.
 */
@Injectable()
export class ChatAdmission {
  constructor(
    private readonly routing: RoutingService,
    private readonly governance: GovernanceService,
    private readonly admission: AdmissionService,
    private readonly audit: CallAuditService,
    private readonly sessions: SessionMemoryClient,
  ) {}

  /** A request refused here reaches no provider and is audited as denied (or failed). */
  async admit(
    principal: Principal,
    raw: ChatRequest,
    req: FastifyRequest,
    reply: FastifyReply,
    started: number,
  ): Promise<AdmittedChat> {
    const ctx = { requestId: String(req.id), sourceIp: req.ip ?? null };
    try {
      const policy = await this.governance.policy(principal);
      this.governance.assertModelAllowed(policy, raw.model);
      const pii = await this.governance.chatPrompt(principal, policy, raw, ctx);
      reply.header('x-atp-pii', pii.action);
      const headers: Record<string, string> = { 'x-atp-pii': pii.action };
      const { body, session } = await this.withSession(pii.body, req, headers);
      if (headers['x-atp-session']) reply.header('x-atp-session', headers['x-atp-session']);
      const plan = await this.routing.plan(raw.model, 'chat');
      const ticket = await this.admission.admit({
        principal,
        tenantLimits: policy.tenant,
        requestId: ctx.requestId,
        candidates: plan.attempts,
        promptTokens: estimatePromptTokens(body),
        promptTokenBound: chatPromptTokenBound(body),
        maxTokens: body.max_completion_tokens ?? body.max_tokens,
        choices: body.n ?? 1,
      });
      for (const k in ticket.headers) {
        reply.header(k, ticket.headers[k]);
        headers[k] = ticket.headers[k];
      }
      return { body, plan, ticket, headers, requestId: ctx.requestId, sourceIp: ctx.sourceIp, session };
    } catch (err) {
      this.audit.call({
        principal,
        action: 'chat.completion',
        ...ctx,
        status: mapError(err).status,
        route: raw.model,
        provider: null,
        model: null,
        promptTokens: 0,
        completionTokens: 0,
        costUsd: 0,
        latencyMs: Date.now() - started,
      });
      throw err;
    }
  }

  /**
   * x-atp-session-id: the session's stored turns (the newest that fit ATP_SESSION_WINDOW_TOKENS)
   * go before the new messages; the new user turn and the answer are appended afterwards.
   */
  private async withSession(body: ChatRequest, req: FastifyRequest, headers: Record<string, string>) {
    const id = req.headers['x-atp-session-id'];
    if (typeof id !== 'string' || id === '') return { body, session: null };
    // The gateway gets the caller's own credential, whichever header it came in.
    const xApiKey = req.headers['x-api-key'];
    const authorization =
      req.headers.authorization ?? (typeof xApiKey === 'string' ? `Bearer ${xApiKey.trim()}` : '');
    const loaded = await this.sessions.load(id, authorization);
    const history = selectWindow(loaded.turns, this.sessions.windowTokens);
    headers['x-atp-session'] = !loaded.available ? 'unavailable' : history.length ? 'hit' : 'new';
    return { body: withHistory(body, history), session: { loaded, userTurn: lastUserText(body) } };
  }

  /**
   * Settles the admission at the real usage and audits the call. Called before the usage row is
   * queued, so a budget rebuilt from the rows never counts a call twice. With `durable`, resolves
   * once the audit event is committed (ATP_DURABLE_RECORDS).
   */
  finish(c: ChatCall, o: ChatOutcome, durable = false): Promise<void> {
    this.admission.settle(c.admitted.ticket, o.usage.prompt_tokens + o.usage.completion_tokens, o.cost);
    return this.audit.call(
      {
        principal: c.principal,
        action: 'chat.completion',
        requestId: c.admitted.requestId,
        sourceIp: c.admitted.sourceIp,
        status: o.status,
        route: c.route,
        provider: o.model?.provider ?? null,
        model: o.model?.id ?? null,
        promptTokens: o.usage.prompt_tokens,
        completionTokens: o.usage.completion_tokens,
        costUsd: o.cost,
        latencyMs: Date.now() - c.started,
      },
      durable,
    );
  }

  /** Appends the user turn and the answer to the session (off the request path). */
  remember(admitted: AdmittedChat, answer: string | null | undefined): void {
    const s = admitted.session;
    if (!s || !s.userTurn || !answer) return;
    this.sessions.remember(s.loaded, [
      { role: 'user', content: s.userTurn },
      { role: 'assistant', content: answer },
    ]);
  }
}
