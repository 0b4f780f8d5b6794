import { Readable } from 'node:stream';
import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { type AuditPage, AuditService, type ChainVerification } from '@app/audit';
import { type Caller, CurrentCaller, Scopes } from '@app/auth';
import { AuditQueryDto, toAuditQuery } from './audit-query.dto';

@ApiTags('audit')
@Controller('v1/audit')
@Scopes('audit:read')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({ summary: "The tenant's audit events, newest first" })
  async list(@CurrentCaller() caller: Caller, @Query() query: AuditQueryDto): Promise<AuditPage> {
    const q = toAuditQuery(query);
    // Show the caller its own recent events: write what is queued first.
    await this.audit.flush().catch(() => undefined);
    return this.audit.list(caller.tenantId, q);
  }

  @Get('verify')
  @ApiOperation({ summary: "Walks the tenant's hash chain and reports the first broken link" })
  async verify(@CurrentCaller() caller: Caller): Promise<ChainVerification> {
    await this.audit.flush().catch(() => undefined);
    return this.audit.verify(caller.tenantId);
  }

  @Get('export')
  @ApiOperation({ summary: "The tenant's audit events as NDJSON, oldest first, streamed" })
  async export(
    @CurrentCaller() caller: Caller,
    @Query() query: AuditQueryDto,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const q = toAuditQuery(query);
    await this.audit.flush().catch(() => undefined);
    const lines = this.audit.export(caller.tenantId, { ...q, limit: undefined, cursor: undefined });
    // Validate before the headers go out, so a bad filter is still a 400 envelope.
    const first = await lines.next();
    const stream = Readable.from(
      (async function* () {
        if (!first.done) yield first.value;
        yield* lines;
      })(),
    );
    await reply.header('content-type', 'application/x-ndjson; charset=utf-8').send(stream);
  }
}
