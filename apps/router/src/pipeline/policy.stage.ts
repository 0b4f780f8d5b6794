import { Injectable } from '@nestjs/common';
import type { ChatRequest, EmbeddingRequest } from '@app/providers';
import { type RequestPolicy, RequestPolicyService } from '../policy/request-policy.service';
import { type LoadedSession, SessionMemoryClient } from '../sessions/session-memory.client';
import { lastUserText, selectWindow, withHistory } from '../sessions/session-window';
import type { CallRequest, EmbedRequest } from './call';

/** `x-atp-session-id`: the session's stored turns, and the user turn to append once answered. */
export interface SessionState {
  loaded: LoadedSession;
  userTurn: string | null;
}

/** What the policy stage lets through: the body the provider may see, and what it did. */
export interface Policed<B> {
  body: B;
  limits: RequestPolicy;
  /** x-atp-pii, x-atp-session */
  headers: Record<string, string>;
  session: SessionState | null;
}

/**
 * Stage 1, policy: may this caller use this model (403), what happens to personal data in the
 * prompt (422, or redacted), and the session history that goes before the new messages.
 */
@Injectable()
export class PolicyStage {
  constructor(
    private readonly policy: RequestPolicyService,
    private readonly sessions: SessionMemoryClient,
  ) {}

  /** @throws AtpError 403 model_not_allowed, 422 pii_blocked, 502/503 from the session store */
  async chat(req: CallRequest): Promise<Policed<ChatRequest>> {
    const limits = await this.policy.policy(req.caller);
    this.policy.assertModelAllowed(limits, req.body.model);
    const pii = await this.policy.chatPrompt(req.caller, limits, req.body);
    const headers: Record<string, string> = { 'x-atp-pii': pii.action };
    const id = req.options.sessionId;
    if (!id) return { body: pii.body, limits, headers, session: null };
    const loaded = await this.sessions.load(id, req.options.sessionAuthorization ?? '');
    const history = selectWindow(loaded.turns, this.sessions.windowTokens);
    headers['x-atp-session'] = !loaded.available ? 'unavailable' : history.length ? 'hit' : 'new';
    return {
      body: withHistory(pii.body, history),
      limits,
      headers,
      session: { loaded, userTurn: lastUserText(pii.body) },
    };
  }

  /** @throws AtpError 403 model_not_allowed, 422 pii_blocked */
  async embeddings(req: EmbedRequest): Promise<Policed<EmbeddingRequest>> {
    const limits = await this.policy.policy(req.caller);
    this.policy.assertModelAllowed(limits, req.body.model);
    const pii = await this.policy.embeddingInput(req.caller, limits, req.body);
    return { body: pii.body, limits, headers: { 'x-atp-pii': pii.action }, session: null };
  }

  /** Appends the user turn and the answer to the session (off the request path). */
  remember(session: SessionState | null, answer: string | null | undefined): void {
    if (!session || !session.userTurn || !answer) return;
    this.sessions.remember(session.loaded, [
      { role: 'user', content: session.userTurn },
      { role: 'assistant', content: answer },
    ]);
  }
}
