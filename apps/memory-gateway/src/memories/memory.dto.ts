import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  Allow,
  ArrayMaxSize,
  IsArray,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';

const TEN_YEARS = 10 * 365 * 24 * 3600;

/** Body of `PUT /v1/memory/{namespace}/{key}`. */
export class PutMemoryDto {
  @ApiProperty({ description: 'Any JSON value (encrypted at rest)' })
  @Allow()
  value?: unknown;

  @ApiPropertyOptional({ description: 'Seconds until the record expires (1 .. 10 years)' })
  @IsOptional()
  @IsInt({ message: 'ttl_seconds must be an integer number of seconds' })
  @Min(1, { message: 'ttl_seconds must be at least 1' })
  @Max(TEN_YEARS, { message: `ttl_seconds must be at most ${TEN_YEARS}` })
  ttl_seconds?: number;

  @ApiPropertyOptional({
    type: [String],
    description: 'Up to 32 tags of 1-128 characters (stored hashed and encrypted)',
  })
  @IsOptional()
  @IsArray({ message: 'tags must be an array of strings' })
  @ArrayMaxSize(32, { message: 'tags may hold at most 32 tags' })
  @IsString({ each: true, message: 'each tag must be a string' })
  @Length(1, 128, { each: true, message: 'each tag must be 1-128 characters' })
  tags?: string[];

  @ApiPropertyOptional({ description: 'A JSON object (encrypted at rest)' })
  @IsOptional()
  @IsObject({ message: 'metadata must be a JSON object' })
  metadata?: Record<string, unknown>;
}

/** Query of `GET /v1/memory/{namespace}`. */
export class ListMemoryQueryDto {
  @ApiPropertyOptional({ description: 'Only keys starting with this' })
  @IsOptional()
  @IsString()
  prefix?: string;

  @ApiPropertyOptional({ description: 'Only records carrying this tag' })
  @IsOptional()
  @IsString()
  @Length(1, 128, { message: 'tag must be 1-128 characters' })
  tag?: string;

  @ApiPropertyOptional({ description: '1..1000, default 100' })
  @IsOptional()
  @Matches(/^\d{1,4}$/, { message: 'limit must be an integer from 1 to 1000' })
  limit?: string;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @IsString()
  cursor?: string;
}

/** Body of `POST /v1/memory/{namespace}/search`. */
export class SearchMemoryDto {
  @ApiProperty({ description: 'Words to look for (matched through the blind index)' })
  @IsString({ message: 'query must be a string' })
  @MinLength(1, { message: 'query must not be empty' })
  @MaxLength(4096, { message: 'query must be at most 4096 characters' })
  query!: string;

  @ApiPropertyOptional({ description: '1..100, default 10' })
  @IsOptional()
  @IsInt({ message: 'limit must be an integer from 1 to 100' })
  @Min(1, { message: 'limit must be an integer from 1 to 100' })
  @Max(100, { message: 'limit must be an integer from 1 to 100' })
  limit?: number;

  @ApiPropertyOptional({ type: [String], description: 'Only records carrying every one of these tags' })
  @IsOptional()
  @IsArray({ message: 'tags must be an array of strings' })
  @ArrayMaxSize(32, { message: 'tags may hold at most 32 tags' })
  @IsString({ each: true, message: 'each tag must be a string' })
  @Length(1, 128, { each: true, message: 'each tag must be 1-128 characters' })
  tags?: string[];
}

/** Body of `PUT /v1/admin/memory-namespaces/{namespace}`. */
export class NamespaceSettingsDto {
  @ApiProperty({
    enum: ['off', 'detect', 'redact', 'mask', 'hash', 'block'],
    nullable: true,
    description: "The namespace's PII mode; null falls back to the key's or tenant's",
  })
  @IsOptional()
  @Matches(/^(off|detect|redact|mask|hash|block)$/, {
    message: 'pii_mode must be one of off, detect, redact, mask, hash, block (or null)',
  })
  pii_mode?: string | null;
}

export interface PiiReport {
  action: string;
  entities: { type: string; count: number }[];
}

/** Response of a PUT (CONTRACT §7). */
export interface WrittenRecordDto {
  namespace: string;
  key: string;
  version: number;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
  size_bytes: number;
  pii: PiiReport;
}

export interface RecordSummaryDto {
  namespace: string;
  key: string;
  version: number;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
  size_bytes: number;
}

export interface RecordDto extends RecordSummaryDto {
  value: unknown;
  tags: string[];
  metadata: Record<string, unknown> | null;
}

export interface SearchResultDto extends RecordDto {
  score: number;
  matched_terms: number;
}
