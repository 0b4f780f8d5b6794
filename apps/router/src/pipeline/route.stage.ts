import { Injectable } from '@nestjs/common';
import type { EmbeddingRequest } from '@app/providers';
import { assertDimensions, assertEmbeddingInput } from '../routing/embedding-checks';
import { type RoutePlan, RoutingService } from '../routing/routing.service';

/**
 * Stage 2, route: which catalog models may answer, in the order to try them (the route's
 * strategy, learned stats, open circuits last). Embeddings are also checked against what the
 * chosen models take (input size, `dimensions`) before anything is reserved.
 */
@Injectable()
export class RouteStage {
  constructor(private readonly routing: RoutingService) {}

  /** @throws AtpError 404 unknown model, 400 for a model of the wrong kind */
  chat(model: string): Promise<RoutePlan> {
    return this.routing.plan(model, 'chat');
  }

  /** @throws AtpError 404 unknown model, 400 input or dimensions a candidate cannot take */
  async embeddings(body: EmbeddingRequest): Promise<RoutePlan> {
    const plan = await this.routing.plan(body.model, 'embedding');
    if (plan.attempts[0]) assertEmbeddingInput(body, plan.attempts[0]);
    assertDimensions(body, plan.attempts);
    return plan;
  }
}
