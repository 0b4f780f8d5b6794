import { Body, Controller, Delete, Get, Param, Put } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { type Caller, CurrentCaller, Scopes } from '@app/auth';
import { NamespaceSettingsDto } from '../memories/memory.dto';
import { type ErasureResult, MemoryErasureService } from '../memories/memory-erasure.service';
import { type NamespaceSettings, NamespaceSettingsService } from '../memories/namespace-settings.service';

@ApiTags('admin')
@Controller('v1/admin')
@Scopes('admin')
export class MemoryAdminController {
  constructor(
    private readonly erasure: MemoryErasureService,
    private readonly namespaces: NamespaceSettingsService,
  ) {}

  @Delete('tenant-data')
  @ApiOperation({
    summary: "Erases the tenant's memory: destroys its data key (crypto-shredding) and deletes its rows",
  })
  eraseTenantData(@CurrentCaller() caller: Caller): Promise<ErasureResult> {
    return this.erasure.eraseTenant(caller);
  }

  @Get('memory-namespaces/:namespace')
  @ApiOperation({ summary: "A namespace's settings (its own PII mode, if any)" })
  getNamespace(
    @CurrentCaller() caller: Caller,
    @Param('namespace') namespace: string,
  ): Promise<NamespaceSettings> {
    return this.namespaces.get(caller, namespace);
  }

  @Put('memory-namespaces/:namespace')
  @ApiOperation({ summary: "Sets a namespace's PII mode (null: the key's or tenant's mode applies)" })
  putNamespace(
    @CurrentCaller() caller: Caller,
    @Param('namespace') namespace: string,
    @Body() body: NamespaceSettingsDto,
  ): Promise<NamespaceSettings> {
    return this.namespaces.set(caller, namespace, body.pii_mode ?? null);
  }
}
