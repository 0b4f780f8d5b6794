import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  ValidateNested,
} from 'class-validator';
import { type Caller, type ApiKeyRecord, type Scope, SCOPES } from '@app/auth';
import { LimitsDto, limitsFromDto, LimitsResponseDto, limitsToDto } from './limits.dto';

export class CreateApiKeyDto {
  @ApiProperty({
    description: 'A name to recognise the key by',
    minLength: 1,
    maxLength: 200,
    example: 'ci pipeline',
  })
  @IsString()
  @Length(1, 200)
  @Matches(/^[^\p{Cc}]+$/u, { message: 'name must not contain control characters' })
  name!: string;

  @ApiProperty({
    description: 'Scopes granted (at most those of the caller)',
    enum: SCOPES,
    isArray: true,
    example: ['llm'],
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(SCOPES.length)
  @ArrayUnique()
  @IsIn(SCOPES, { each: true, message: `each value in scopes must be one of: ${SCOPES.join(', ')}` })
  scopes!: Scope[];

  @ApiPropertyOptional({
    description: 'When the key stops working (ISO 8601, in the future)',
    format: 'date-time',
    nullable: true,
  })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  expires_at?: string | null;

  @ApiPropertyOptional({
    description: "The key's own limits (same fields as the tenant's)",
    type: LimitsDto,
    nullable: true,
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => LimitsDto)
  limits?: LimitsDto | null;
}

export class ApiKeyResponseDto {
  @ApiProperty({ example: 'api_key' }) object!: 'api_key';
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) tenant_id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({
    description: 'The first characters of the key, to tell keys apart',
    example: 'atp_3kTq9ZbX',
  })
  prefix!: string;
  @ApiProperty({ enum: SCOPES, isArray: true }) scopes!: Scope[];
  @ApiPropertyOptional({ type: LimitsResponseDto, nullable: true }) limits!: LimitsResponseDto | null;
  @ApiPropertyOptional({ type: String, nullable: true }) created_by!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) expires_at!: string | null;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) last_used_at!: string | null;
}

export class CreatedApiKeyResponseDto extends ApiKeyResponseDto {
  @ApiProperty({ description: 'The API key. Shown only in this response: store it now.', example: 'atp_…' })
  key!: string;
}

export class ApiKeyListDto {
  @ApiProperty({ example: 'list' }) object!: 'list';
  @ApiProperty({ type: [ApiKeyResponseDto] }) data!: ApiKeyResponseDto[];
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function apiKeyToDto(k: ApiKeyRecord): ApiKeyResponseDto {
  return {
    object: 'api_key',
    id: k.id,
    tenant_id: k.tenantId,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes,
    limits: k.limits ? limitsToDto(k.limits) : null,
    created_by: k.createdBy,
    created_at: k.createdAt.toISOString(),
    expires_at: iso(k.expiresAt),
    last_used_at: iso(k.lastUsedAt),
  };
}

/** ApiKeyService.createKey's parameters for a create-key body (the admin API and the console). */
export function createKeyParams(tenantId: string, body: CreateApiKeyDto, actor: Caller) {
  return {
    tenantId,
    name: body.name,
    scopes: body.scopes,
    expiresAt: body.expires_at ? new Date(body.expires_at) : null,
    limits: body.limits ? limitsFromDto(body.limits) : null,
    actor,
  };
}
