import { Module } from '@nestjs/common';
import { ApiKeysController } from './api-keys.controller';
import { LimitsController } from './limits.controller';
import { TenantsController } from './tenants.controller';

/** `/v1/admin/…` (CONTRACT §6): tenants, API keys, limits. The services come from the global AuthModule. */
@Module({ controllers: [TenantsController, ApiKeysController, LimitsController] })
export class AdminModule {}
