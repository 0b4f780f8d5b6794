import { Body, Controller, Post } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type Caller, CurrentCaller, Scopes, TenantService } from '@app/auth';
import { CreateTenantDto, TenantResponseDto, tenantToDto } from './dto/tenant.dto';

@ApiTags('admin')
@Controller('v1/admin/tenants')
export class TenantsController {
  constructor(private readonly tenants: TenantService) {}

  @Post()
  @Scopes('platform:admin')
  @ApiOperation({ summary: 'Create a tenant (platform admins)' })
  @ApiCreatedResponse({ type: TenantResponseDto })
  @ApiConflictResponse({ description: 'A tenant with this name exists' })
  async create(@Body() body: CreateTenantDto, @CurrentCaller() actor: Caller): Promise<TenantResponseDto> {
    return tenantToDto(await this.tenants.createTenant({ name: body.name, actor }));
  }
}
