import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString } from 'class-validator';
import { PII_ENTITY_TYPES, PII_MODES } from '@app/pii';

/** Longest text `POST /v1/pii/detect|redact` scans (UTF-16 code units); longer is 413 `text_too_large`. */
export const PII_TEXT_MAX_CHARS = 1_000_000;

/** Body of `POST /v1/pii/detect` and `POST /v1/pii/redact`. */
export class PiiTextDto {
  @ApiProperty({ description: `Text to scan (at most ${PII_TEXT_MAX_CHARS} characters; longer is 413)` })
  @IsString({ message: 'text must be a string' })
  text!: string;

  @ApiPropertyOptional({ enum: PII_MODES, description: 'detect: default detect; redact: default redact' })
  @IsOptional()
  @IsIn(PII_MODES, { message: `mode must be one of ${PII_MODES.join(', ')}` })
  mode?: (typeof PII_MODES)[number];
}

export class PiiEntityDto {
  @ApiProperty({ enum: PII_ENTITY_TYPES })
  type!: string;

  @ApiProperty({ description: 'Offset of the first character (UTF-16 code units)' })
  start!: number;

  @ApiProperty({ description: 'Offset after the last character' })
  end!: number;

  @ApiProperty({ description: '0..1' })
  score!: number;
}

export class PiiTypeCountDto {
  @ApiProperty({ enum: PII_ENTITY_TYPES })
  type!: string;

  @ApiProperty()
  count!: number;
}

export class PiiResponseDto {
  @ApiPropertyOptional({ description: 'The transformed text (redact endpoint only)' })
  text?: string;

  @ApiProperty({ enum: PII_MODES })
  mode!: string;

  @ApiProperty({ enum: ['off', 'none', 'detected', 'redacted', 'masked', 'hashed', 'blocked'] })
  action!: string;

  @ApiProperty({ type: [PiiEntityDto] })
  entities!: PiiEntityDto[];

  @ApiProperty({ type: [PiiTypeCountDto] })
  summary!: PiiTypeCountDto[];
}
