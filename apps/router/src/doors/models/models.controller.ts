import { Controller, Get, Inject, Req } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { type Caller, CurrentCaller, Scopes } from '@app/auth';
import { AtpError } from '@app/common';
import { RequestPolicyService } from '../../policy/request-policy.service';
import type { Catalog } from '../../routing/resolve-model';
import { RoutingService } from '../../routing/routing.service';
import { CATALOG } from '../../routing/routing.tokens';
import { aliasEntry, modelEntry } from './model-entry';
import { ModelRetrieveDocs, ModelsListDocs } from '../openapi';

@ApiTags('models')
@Controller('v1')
export class ModelsController {
  constructor(
    @Inject(CATALOG) private readonly catalog: Catalog,
    private readonly routing: RoutingService,
    private readonly governance: RequestPolicyService,
  ) {}

  @Get('models')
  @Scopes('llm')
  @ApiOperation({
    summary:
      'Catalog models and route aliases usable with the configured providers and allowed to the caller',
  })
  @ModelsListDocs()
  async list(@CurrentCaller() caller: Caller) {
    const policy = await this.governance.policy(caller);
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
      .map((r) => aliasEntry(r.name, this.catalog.models.get(r.candidates[0]?.model ?? '')?.kind ?? 'chat'));
    return { object: 'list' as const, data: [...models, ...aliases] };
  }

  /**
   * One model object, as OpenAI's `GET /v1/models/{model}`. Ids may hold slashes
   * (`anthropic/claude-sonnet-4-5`, sent raw or as `%2F`), hence the wildcard. A
   * provider-qualified id names a listed catalog model of that provider; anything the list
   * would not show this caller (unknown, provider not configured, not allowed) is a 404.
   */
  @Get('models/*')
  @Scopes('llm')
  @ApiOperation({ summary: 'One model object (OpenAI schema); 404 for ids the caller cannot use' })
  @ModelRetrieveDocs()
  // Swagger names the wildcard {path}.
  @ApiParam({ name: 'path', description: 'model id, e.g. gpt-4o-mini or anthropic/claude-sonnet-4-5' })
  async retrieve(@CurrentCaller() caller: Caller, @Req() req: FastifyRequest) {
    // Read from the request, not @Param('*'), which Swagger would list as a second path parameter.
    const id = (req.params as Record<string, string>)['*'];
    const { data } = await this.list(caller);
    const listed = data.find((m) => m.id === id);
    if (listed) return listed;
    const slash = id.indexOf('/');
    const policy = await this.governance.policy(caller);
    if (slash > 0 && this.governance.isModelAllowed(policy, id)) {
      const provider = id.slice(0, slash);
      const upstream = id.slice(slash + 1);
      const model = [...this.catalog.models.values()].find(
        (m) => m.provider === provider && (m.upstream === upstream || m.id === upstream),
      );
      const entry = model && data.find((m) => m.id === model.id);
      if (entry) return { ...entry, id };
    }
    throw new AtpError(
      404,
      'model_not_found',
      `The model "${id}" does not exist or you do not have access to it`,
      {
        param: 'model',
      },
    );
  }
}
