import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { AtpError } from '@app/common';
import type { AuditAction, AuditQuery } from '@app/audit';

/** Query of `GET /v1/audit` and `GET /v1/audit/export`. */
export class AuditQueryDto {
  @ApiPropertyOptional({ description: 'Inclusive ISO-8601 start time' })
  @IsOptional()
  @IsString()
  start?: string;

  @ApiPropertyOptional({ description: 'Exclusive ISO-8601 end time' })
  @IsOptional()
  @IsString()
  end?: string;

  @ApiPropertyOptional({ description: 'One audit action, e.g. memory.write' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  action?: string;

  @ApiPropertyOptional({ description: 'An actor id (e.g. api_key:<id>)' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  // eslint-disable-next-line no-control-regex
  @Matches(/^[^\u0000-\u001f\u007f]*$/, { message: 'actor must not contain control characters' })
  actor?: string;

  @ApiPropertyOptional({ description: '1..1000, default 100' })
  @IsOptional()
  @Matches(/^\d{1,4}$/, { message: 'limit must be an integer from 1 to 1000' })
  limit?: string;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

function parseTime(value: string | undefined, param: string): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
    throw AtpError.badRequest(`invalid_${param}`, `${param} must be an ISO-8601 date-time`, param);
  }
  return date;
}

/** The library's query from the wire one (the audit service validates action, limit and cursor). */
export function toAuditQuery(dto: AuditQueryDto): AuditQuery {
  return {
    start: parseTime(dto.start, 'start'),
    end: parseTime(dto.end, 'end'),
    action: dto.action as AuditAction | undefined,
    actor: dto.actor,
    limit: dto.limit === undefined ? undefined : Number(dto.limit),
    cursor: dto.cursor,
  };
}
