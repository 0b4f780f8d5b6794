import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
} from 'class-validator';
import { type Limits, PII_MODES, type PiiMode } from '@app/auth';

const MAX_COUNT = 1_000_000_000;

/**
 * Limits of a tenant or an API key (CONTRACT §6). Every field is optional: one that is not set
 * does not apply. `null` means the same as leaving it out.
 */
export class LimitsDto {
  @ApiPropertyOptional({ description: 'Requests per minute', minimum: 0, example: 600, nullable: true })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_COUNT)
  rpm?: number | null;

  @ApiPropertyOptional({
    description: 'Tokens (prompt + completion) per minute',
    minimum: 0,
    example: 200000,
    nullable: true,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_COUNT)
  tpm?: number | null;

  @ApiPropertyOptional({ description: 'Requests in flight at once', minimum: 0, example: 20, nullable: true })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_COUNT)
  concurrency?: number | null;

  @ApiPropertyOptional({
    description: 'Spend per calendar month (UTC), in US dollars',
    minimum: 0,
    example: 250,
    nullable: true,
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false, maxDecimalPlaces: 6 })
  @Min(0)
  @Max(MAX_COUNT)
  monthly_budget_usd?: number | null;

  @ApiPropertyOptional({
    description: 'Model ids or route aliases that may be used; absent = all',
    type: [String],
    example: ['gpt-4o-mini', 'fast'],
    nullable: true,
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(500)
  @IsString({ each: true })
  @Length(1, 200, { each: true })
  allowed_models?: string[] | null;

  @ApiPropertyOptional({ description: 'PII handling in the memory gateway', enum: PII_MODES, nullable: true })
  @IsOptional()
  @IsIn(PII_MODES)
  pii_mode?: PiiMode | null;
}

/** What GET/PUT /v1/admin/limits return: every field, null where unset. */
export class LimitsResponseDto {
  @ApiPropertyOptional({ type: Number, nullable: true }) rpm!: number | null;
  @ApiPropertyOptional({ type: Number, nullable: true }) tpm!: number | null;
  @ApiPropertyOptional({ type: Number, nullable: true }) concurrency!: number | null;
  @ApiPropertyOptional({ type: Number, nullable: true }) monthly_budget_usd!: number | null;
  @ApiPropertyOptional({ type: [String], nullable: true }) allowed_models!: string[] | null;
  @ApiPropertyOptional({ enum: PII_MODES, nullable: true }) pii_mode!: PiiMode | null;
}

export function limitsFromDto(dto: LimitsDto): Limits {
  return {
    rpm: dto.rpm ?? undefined,
    tpm: dto.tpm ?? undefined,
    concurrency: dto.concurrency ?? undefined,
    monthlyBudgetUsd: dto.monthly_budget_usd ?? undefined,
    allowedModels: dto.allowed_models ?? undefined,
    piiMode: dto.pii_mode ?? undefined,
  };
}

export function limitsToDto(limits: Limits): LimitsResponseDto {
  return {
    rpm: limits.rpm ?? null,
    tpm: limits.tpm ?? null,
    concurrency: limits.concurrency ?? null,
    monthly_budget_usd: limits.monthlyBudgetUsd ?? null,
    allowed_models: limits.allowedModels ?? null,
    pii_mode: limits.piiMode ?? null,
  };
}
