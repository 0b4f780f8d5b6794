import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { type Caller, CurrentCaller, Scopes } from '@app/auth';
import { AtpError } from '@app/common';
import { UsageRecorder } from './usage-recorder';
import { type UsageGroupBy, UsageRepository } from './usage.repository';

const GROUPS: UsageGroupBy[] = ['day', 'model', 'api_key'];
const DAY_MS = 86_400_000;

function parseDate(value: string | undefined, param: string, fallback: Date): Date {
  if (value === undefined || value === '') return fallback;
  const d = /^\d+$/.test(value) ? new Date(Number(value) * 1000) : new Date(value);
  if (Number.isNaN(d.getTime()))
    throw AtpError.badRequest('invalid_request', `'${param}' must be an ISO date or a Unix timestamp`, param);
  return d;
}

@ApiTags('usage')
@Controller('v1')
export class UsageController {
  constructor(
    private readonly repository: UsageRepository,
    private readonly recorder: UsageRecorder,
  ) {}

  @Get('usage')
  @Scopes('llm')
  @ApiOperation({
    summary: "The tenant's requests, tokens and cost in [start, end), grouped by day, model or API key",
  })
  @ApiQuery({
    name: 'start',
    required: false,
    description: 'ISO date or Unix seconds (default: 30 days ago)',
  })
  @ApiQuery({ name: 'end', required: false, description: 'ISO date or Unix seconds (default: now)' })
  @ApiQuery({ name: 'group_by', required: false, enum: GROUPS })
  async usage(
    @CurrentCaller() caller: Caller,
    @Query('start') startRaw?: string,
    @Query('end') endRaw?: string,
    @Query('group_by') groupRaw?: string,
  ) {
    const end = parseDate(endRaw, 'end', new Date());
    const start = parseDate(startRaw, 'start', new Date(end.getTime() - 30 * DAY_MS));
    if (start >= end) throw AtpError.badRequest('invalid_request', "'start' must be before 'end'", 'start');
    const groupBy = (groupRaw ?? 'day') as UsageGroupBy;
    if (!GROUPS.includes(groupBy)) {
      throw AtpError.badRequest(
        'invalid_request',
        `'group_by' must be one of ${GROUPS.join(', ')}`,
        'group_by',
      );
    }
    // Rows are batched off the request path: write what is queued so the answer is complete.
    await this.recorder.flush();
    const rows = await this.repository.aggregateForTenant(caller.tenantId, start, end, groupBy);
    const totals = rows.reduce(
      (t, r) => ({
        requests: t.requests + r.requests,
        prompt_tokens: t.prompt_tokens + r.promptTokens,
        completion_tokens: t.completion_tokens + r.completionTokens,
        total_tokens: t.total_tokens + r.totalTokens,
        cost_usd: t.cost_usd + r.costUsd,
      }),
      { requests: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cost_usd: 0 },
    );
    return {
      object: 'usage',
      start: start.toISOString(),
      end: end.toISOString(),
      group_by: groupBy,
      data: rows.map((r) => ({
        [groupBy]: r.key,
        requests: r.requests,
        prompt_tokens: r.promptTokens,
        completion_tokens: r.completionTokens,
        total_tokens: r.totalTokens,
        cost_usd: Number(r.costUsd.toFixed(8)),
      })),
      totals: { ...totals, cost_usd: Number(totals.cost_usd.toFixed(8)) },
    };
  }
}
