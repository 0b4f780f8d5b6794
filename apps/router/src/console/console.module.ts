import { Module } from '@nestjs/common';
import { LimitsModule } from '../limits/limits.module';
import { RoutingModule } from '../routing/routing.module';
import { UsageModule } from '../usage/usage.module';
import { ConsoleApiController } from './console-api.controller';
import { ConsoleDataService } from './console-data.service';
import { ConsoleOidcController } from './console-oidc.controller';
import { ConsoleOidcService } from './console-oidc.service';
import { ConsoleOverviewService } from './console-overview.service';
import { ConsoleSessionController } from './console-session.controller';
import { ConsoleSessionService } from './console-session.service';
import { ConsoleStaticController } from './console-static.controller';
import { ConsoleStatsRepository } from './console-stats.repository';
import { ConsoleGuard } from './console.guard';

/**
 * The admin console at /console (issue 20): its page and assets, sign-in and the session cookie,
 * and the read/write API the page calls. Auth, audit and the database come from global modules.
 */
@Module({
  imports: [LimitsModule, RoutingModule, UsageModule],
  controllers: [
    ConsoleStaticController,
    ConsoleSessionController,
    ConsoleApiController,
    ConsoleOidcController,
  ],
  providers: [
    ConsoleGuard,
    ConsoleOidcService,
    ConsoleSessionService,
    ConsoleStatsRepository,
    ConsoleOverviewService,
    ConsoleDataService,
  ],
})
export class ConsoleModule {}
