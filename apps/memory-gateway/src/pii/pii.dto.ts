import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { PII_MODES } from '@app/pii';

/** Body of `POST /v1/pii/detect` and `POST /v1/pii/redact`. */
export class PiiTextDto {
  @ApiProperty({ description: 'Text to scan (at most 1,000,000 characters)' })
  @IsString({ message: 'text must be a string' })
  @MaxLength(1_000_000, { message: 'text must be at most 1000000 characters' })
  text!: string;

  @ApiPropertyOptional({ enum: PII_MODES, description: 'detect: default detect; redact: default redact' })
  @IsOptional()
  @IsIn(PII_MODES, { message: `mode must be one of ${PII_MODES.join(', ')}` })
  mode?: (typeof PII_MODES)[number];
}

export interface PiiEntityDto {
  type: string;
  start: number;
  end: number;
  score: number;
}

export interface PiiResponseDto {
  /** The transformed text (redact endpoint only). */
  text?: string;
  mode: string;
  action: string;
  entities: PiiEntityDto[];
  summary: { type: string; count: number }[];
}
