import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiKeyService, type Caller, CurrentCaller, Scopes } from '@app/auth';
import {
  ApiKeyListDto,
  apiKeyToDto,
  CreateApiKeyDto,
  createKeyParams,
  CreatedApiKeyResponseDto,
} from './dto/api-key.dto';

/** The caller's tenant's API keys. There is no tenant parameter: the credential decides. */
@ApiTags('admin')
@Controller('v1/admin/api-keys')
@Scopes('admin')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeyService) {}

  @Get()
  @ApiOperation({ summary: "List the tenant's API keys (not revoked ones; never the keys themselves)" })
  @ApiOkResponse({ type: ApiKeyListDto })
  async list(@CurrentCaller() caller: Caller): Promise<ApiKeyListDto> {
    const keys = await this.keys.listKeys(caller.tenantId);
    return { object: 'list', data: keys.map(apiKeyToDto) };
  }

  @Post()
  @ApiOperation({ summary: 'Create an API key; the key is in this response only' })
  @ApiCreatedResponse({ type: CreatedApiKeyResponseDto })
  async create(
    @Body() body: CreateApiKeyDto,
    @CurrentCaller() caller: Caller,
    @CurrentCaller() actor: Caller,
  ): Promise<CreatedApiKeyResponseDto> {
    const { key, record } = await this.keys.createKey(createKeyParams(caller.tenantId, body, actor));
    return { ...apiKeyToDto(record), key };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API key (every replica stops accepting it within seconds)' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiNotFoundResponse({ description: 'No active key with this id in the tenant' })
  async revoke(
    @Param('id') id: string,
    @CurrentCaller() caller: Caller,
    @CurrentCaller() actor: Caller,
  ): Promise<void> {
    await this.keys.revokeKey({ tenantId: caller.tenantId, keyId: id, actor });
  }
}
