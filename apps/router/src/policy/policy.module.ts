import { Module } from '@nestjs/common';
import { PiiWorkers } from '@app/pii';
import { LimitsModule } from '../limits/limits.module';
import { RoutingModule } from '../routing/routing.module';
import { UsageModule } from '../usage/usage.module';
import { RequestPolicyService } from './request-policy.service';

/** What a caller may send: model allow-lists and the prompt PII policy (on worker threads). */
@Module({
  imports: [LimitsModule, RoutingModule, UsageModule],
  providers: [RequestPolicyService, PiiWorkers],
  exports: [RequestPolicyService],
})
export class PolicyModule {}
