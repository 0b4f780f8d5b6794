import { Module } from '@nestjs/common';
import { LimitsModule } from '../limits/limits.module';
import { PolicyModule } from '../policy/policy.module';
import { RoutingModule } from '../routing/routing.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsageModule } from '../usage/usage.module';
import { AdmitStage } from './admit.stage';
import { CacheStage } from './cache.stage';
import { InvokeStage } from './invoke.stage';
import { Ledger } from './ledger';
import { CallPipeline } from './pipeline';
import { PolicyStage } from './policy.stage';
import { RouteStage } from './route.stage';

/** The call pipeline and its stages (pipeline.ts reads top to bottom). */
@Module({
  imports: [RoutingModule, UsageModule, LimitsModule, PolicyModule, SessionsModule],
  providers: [PolicyStage, RouteStage, AdmitStage, CacheStage, InvokeStage, Ledger, CallPipeline],
  exports: [CallPipeline],
})
export class PipelineModule {}
