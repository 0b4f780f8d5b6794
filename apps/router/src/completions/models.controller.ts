import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Principal, Scopes } from '@app/auth';
import { GovernanceService } from '../governance/governance.service';
import type { Catalog } from '../routing/resolve-model';
import { RoutingService } from '../routing/routing.service';
import { CATALOG } from '../routing/routing.tokens';
import { aliasEntry, modelEntry } from './model-entry';
import { ModelsListDocs } from './openapi';

@ApiTags('models')
@Controller('v1')
export class ModelsController {
  constructor(
    @Inject(CATALOG) private readonly catalog: Catalog,
    private readonly routing: RoutingService,
    private readonly governance: GovernanceService,
  ) {}

  @Get('models')
  @Scopes('llm')
  @ApiOperation({
    summary:
      'Catalog models and route aliases usable with the configured providers and allowed to the caller',
  })
  @ModelsListDocs()
  async list(@Principal() principal: Principal) {
    const policy = await this.governance.policy(principal);
    const allowed = (id: string) => this.governance.isModelAllowed(policy, id);
    const providers = this.routing.configuredProviders();
    const mockOnly = providers.size === 1 && providers.has('mock');
    const models = [...this.catalog.models.values()]
      .filter((m) => providers.has(m.provider) && allowed(m.id))
      .map(modelEntry);
    const aliases = [...this.catalog.routes.values()]
      .filter(
        (r) =>
          mockOnly ||
          r.candidates.some((c) => providers.has(this.catalog.models.get(c.model)?.provider ?? '')),
      )
      .filter((r) => allowed(r.name))
      .map((r) => aliasEntry(r.name));
    return { object: 'list' as const, data: [...models, ...aliases] };
  }
}
