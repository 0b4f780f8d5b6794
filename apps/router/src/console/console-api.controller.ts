import { Readable } from 'node:stream';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Put,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { type AuditAction, AuditService } from '@app/audit';
import { type Caller, ApiKeyService, CurrentCaller, TenantService } from '@app/auth';
import { AtpError } from '@app/common';
import { apiKeyToDto, CreateApiKeyDto, createKeyParams } from '../admin/dto/api-key.dto';
import { LimitsDto, limitsFromDto, limitsToDto } from '../admin/dto/limits.dto';
import { ConsoleDataService } from './console-data.service';
import { ConsoleOverviewService } from './console-overview.service';
import { logWindow, overviewPeriod } from './console-period';
import type { UsageFilters } from './console-stats.repository';
import { Console, ConsoleGuard, type ConsoleScope } from './console.guard';

type Q = Record<string, string | undefined>;

function text(q: Q, name: string, max = 200): string | undefined {
  const v = q[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string' || v.length > max)
    throw AtpError.badRequest('invalid_request', `'${name}' must be text of at most ${max} characters`, name);
  return v;
}

function statusFilter(raw: string | undefined): UsageFilters['status'] {
  if (raw === undefined || raw === '' || raw === 'all') return undefined;
  if (raw === 'ok' || raw === 'error') return raw;
  if (/^[1-5]\d\d$/.test(raw)) return Number(raw);
  throw AtpError.badRequest(
    'invalid_request',
    "'status' must be ok, error or a status code such as 429",
    'status',
  );
}

function auditTime(raw: string | undefined, param: string): Date | undefined {
  if (raw === undefined || raw === '') return undefined;
  const d = new Date(raw);
  if (Number.isNaN(d.getTime()))
    throw AtpError.badRequest('invalid_request', `'${param}' must be an ISO date`, param);
  return d;
}

function auditQuery(q: Q) {
  return {
    start: auditTime(q.start, 'start'),
    end: auditTime(q.end, 'end'),
    action: text(q, 'action', 64) as AuditAction | undefined,
    actor: text(q, 'actor', 256),
  };
}

/**
 * The console's API: what the pages read and change, always for the tenant the ConsoleGuard
 * settled on (the session's own; another only for a platform admin). Writes go through the same
 * services and DTOs as /v1/admin, so validation and error messages are the API's own.
 */
@ApiExcludeController()
@Controller('console/api')
@UseGuards(ConsoleGuard)
export class ConsoleApiController {
  constructor(
    private readonly overview: ConsoleOverviewService,
    private readonly data: ConsoleDataService,
    private readonly keys: ApiKeyService,
    private readonly tenants: TenantService,
    private readonly audit: AuditService,
  ) {}

  @Get('overview')
  overviewOf(@Console() c: ConsoleScope, @Query() q: Q) {
    return this.overview.overview(c.tenantId, overviewPeriod(q));
  }

  @Get('requests')
  requests(@Console() c: ConsoleScope, @Query() q: Q) {
    const filters: UsageFilters = {
      ...logWindow(q),
      apiKeyId: text(q, 'api_key_id', 64),
      model: text(q, 'model'),
      provider: text(q, 'provider', 64),
      route: text(q, 'route'),
      endpoint: text(q, 'endpoint', 16),
      requestId: text(q, 'request_id', 128),
      status: statusFilter(q.status),
    };
    return this.data.requests(c.tenantId, filters, text(q, 'cursor', 200), q.limit);
  }

  @Get('keys')
  listKeys(@Console() c: ConsoleScope) {
    return this.data.listKeys(c.tenantId);
  }

  @Post('keys')
  async createKey(@Console() c: ConsoleScope, @Body() body: CreateApiKeyDto, @CurrentCaller() actor: Caller) {
    const { key, record } = await this.keys.createKey(createKeyParams(c.tenantId, body, actor));
    return { ...apiKeyToDto(record), key };
  }

  @Delete('keys/:id')
  @HttpCode(204)
  async revokeKey(@Console() c: ConsoleScope, @Param('id') id: string, @CurrentCaller() actor: Caller) {
    await this.keys.revokeKey({ tenantId: c.tenantId, keyId: id, actor });
  }

  @Put('keys/:id/limits')
  keyLimits(
    @Console() c: ConsoleScope,
    @Param('id') id: string,
    @Body() body: LimitsDto,
    @CurrentCaller() actor: Caller,
  ) {
    return this.data.updateKeyLimits(c.tenantId, id, limitsFromDto(body), actor);
  }

  @Get('limits')
  async limits(@Console() c: ConsoleScope) {
    return limitsToDto(await this.tenants.getLimits(c.tenantId));
  }

  @Put('limits')
  async replaceLimits(@Console() c: ConsoleScope, @Body() body: LimitsDto) {
    return limitsToDto(await this.tenants.replaceLimits(c.tenantId, limitsFromDto(body)));
  }

  @Get('audit')
  async auditEvents(@Console() c: ConsoleScope, @Query() q: Q) {
    await this.audit.flush().catch(() => undefined);
    const limit = q.limit === undefined || q.limit === '' ? 50 : Number(q.limit);
    return this.audit.list(c.tenantId, { ...auditQuery(q), limit, cursor: text(q, 'cursor', 200) });
  }

  @Post('audit/verify')
  @HttpCode(200)
  async verify(@Console() c: ConsoleScope) {
    await this.audit.flush().catch(() => undefined);
    const started = Date.now();
    const result = await this.audit.verify(c.tenantId);
    return { ...result, verified_at: new Date().toISOString(), duration_ms: Date.now() - started };
  }

  @Get('audit/export')
  async exportAudit(@Console() c: ConsoleScope, @Query() q: Q, @Res() reply: FastifyReply): Promise<void> {
    await this.audit.flush().catch(() => undefined);
    const lines = this.audit.export(c.tenantId, auditQuery(q));
    const first = await lines.next(); // a bad filter is still a 400 envelope
    const stream = Readable.from(
      (async function* () {
        if (!first.done) yield first.value;
        yield* lines;
      })(),
    );
    await reply
      .header('content-type', 'application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="audit-${c.tenantId}.ndjson"`)
      .send(stream);
  }

  @Get('providers')
  providers() {
    return this.data.providers();
  }
}
