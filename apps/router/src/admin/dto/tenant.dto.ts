import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';
import type { TenantRecord } from '@app/auth';

export class CreateTenantDto {
  @ApiProperty({ description: 'Unique tenant name', minLength: 1, maxLength: 200, example: 'acme' })
  @IsString()
  @Length(1, 200)
  @Matches(/^\S(?:[^\p{Cc}]*\S)?$/u, {
    message: 'name must not start or end with spaces or contain control characters',
  })
  name!: string;
}

export class TenantResponseDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export function tenantToDto(t: TenantRecord): TenantResponseDto {
  return { id: t.id, name: t.name, created_at: t.createdAt.toISOString() };
}
