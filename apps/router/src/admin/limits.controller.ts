import { Body, Controller, Get, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type Caller, CurrentCaller, Scopes, TenantService } from '@app/auth';
import { LimitsDto, limitsFromDto, LimitsResponseDto, limitsToDto } from './dto/limits.dto';

/** The caller's tenant's limits (stored and returned here; enforced by the request path). */
@ApiTags('admin')
@Controller('v1/admin/limits')
@Scopes('admin')
export class LimitsController {
  constructor(private readonly tenants: TenantService) {}

  @Get()
  @ApiOperation({ summary: "The tenant's limits (null: not set, does not apply)" })
  @ApiOkResponse({ type: LimitsResponseDto })
  async get(@CurrentCaller() caller: Caller): Promise<LimitsResponseDto> {
    return limitsToDto(await this.tenants.getLimits(caller.tenantId));
  }

  @Put()
  @ApiOperation({ summary: "Replace the tenant's limits (a field left out no longer applies)" })
  @ApiOkResponse({ type: LimitsResponseDto })
  async replace(@Body() body: LimitsDto, @CurrentCaller() caller: Caller): Promise<LimitsResponseDto> {
    return limitsToDto(await this.tenants.replaceLimits(caller.tenantId, limitsFromDto(body)));
  }
}
