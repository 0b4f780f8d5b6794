import { Injectable } from '@nestjs/common';
import type { Caller } from '@app/auth';
import { type ChatRequest, estimatePromptTokens } from '@app/providers';
import { RequestPolicyService } from '../../policy/request-policy.service';
import { RoutingService } from '../../routing/routing.service';

/**
 * `POST /v1/messages/count_tokens`: the prompt's token count as the router itself estimates it
 * for the tokens-per-minute limit (≈ 4 characters a token over messages, tool results and tool
 * definitions) — for every model behind the door, with no upstream call and nothing billed. Not
 * the byte bound the budget reserves (prompt-bound.ts): that is an upper bound, several times
 * the real count, and agents that size their context by it would compact far too early.
 */
@Injectable()
export class MessageTokenCounter {
  constructor(
    private readonly policy: RequestPolicyService,
    private readonly routing: RoutingService,
  ) {}

  /** @throws AtpError 403 model not allowed for the caller, 404 unknown model */
  async count(caller: Caller, prompt: ChatRequest): Promise<{ input_tokens: number }> {
    this.policy.assertModelAllowed(await this.policy.policy(caller), prompt.model);
    await this.routing.plan(prompt.model, 'chat');
    return { input_tokens: estimatePromptTokens(prompt) };
  }
}
