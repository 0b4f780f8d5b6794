import { Module } from '@nestjs/common';
import { GovernanceModule } from '../governance/governance.module';
import { RoutingModule } from '../routing/routing.module';
import { UsageModule } from '../usage/usage.module';
import { ChatAdmission } from './chat-admission';
import { CompletionsController } from './completions.controller';
import { CompletionsService } from './completions.service';
import { EmbeddingsController } from './embeddings.controller';
import { EmbeddingsService } from './embeddings.service';
import { ModelsController } from './models.controller';

@Module({
  imports: [RoutingModule, UsageModule, GovernanceModule],
  controllers: [CompletionsController, EmbeddingsController, ModelsController],
  providers: [ChatAdmission, CompletionsService, EmbeddingsService],
})
export class CompletionsModule {}
