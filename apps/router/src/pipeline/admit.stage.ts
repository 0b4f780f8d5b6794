import { Injectable } from '@nestjs/common';
import type { Caller } from '@app/auth';
import {
  type ChatRequest,
  type EmbeddingRequest,
  estimateEmbeddingTokens,
  estimatePromptTokens,
} from '@app/providers';
import { type AdmissionRequest, AdmissionService, type AdmissionTicket } from '../limits/admission.service';
import { chatPromptTokenBound, embeddingTokenBound } from '../limits/prompt-bound';
import type { RequestPolicy } from '../policy/request-policy.service';
import type { RoutePlan } from '../routing/routing.service';

/**
 * Stage 3, admit: rate limits, concurrency and the budget, in one atomic store call. The budget
 * reserves the worst case over the route's candidates, from a true upper bound of the prompt's
 * tokens (prompt-bound.ts), so recorded spend never passes it; the ledger settles to the real cost.
 */
@Injectable()
export class AdmitStage {
  constructor(private readonly admission: AdmissionService) {}

  /** @throws AtpError 429 (limits, budget) or 503 (the limits store is down and the policy says so) */
  chat(caller: Caller, limits: RequestPolicy, plan: RoutePlan, body: ChatRequest): Promise<AdmissionTicket> {
    return this.admit(caller, limits, plan, {
      promptTokens: estimatePromptTokens(body),
      promptTokenBound: chatPromptTokenBound(body),
      maxTokens: body.max_completion_tokens ?? body.max_tokens,
      choices: body.n ?? 1,
    });
  }

  /** @throws AtpError 429 or 503, as for chat */
  embeddings(
    caller: Caller,
    limits: RequestPolicy,
    plan: RoutePlan,
    body: EmbeddingRequest,
  ): Promise<AdmissionTicket> {
    return this.admit(caller, limits, plan, {
      promptTokens: estimateEmbeddingTokens(body),
      promptTokenBound: embeddingTokenBound(body),
      maxTokens: 0,
    });
  }

  private admit(
    caller: Caller,
    limits: RequestPolicy,
    plan: RoutePlan,
    tokens: Pick<AdmissionRequest, 'promptTokens' | 'promptTokenBound' | 'maxTokens' | 'choices'>,
  ): Promise<AdmissionTicket> {
    return this.admission.admit({
      caller,
      tenantLimits: limits.tenant,
      requestId: caller.requestId ?? '',
      candidates: plan.attempts,
      ...tokens,
    });
  }
}
