import { Module } from '@nestjs/common';
import { PipelineModule } from '../pipeline/pipeline.module';
import { PolicyModule } from '../policy/policy.module';
import { ResponsesStoreModule } from '../responses-store/responses-store.module';
import { RoutingModule } from '../routing/routing.module';
import { ChatCompletionsController } from './chat-completions/chat-completions.controller';
import { EmbeddingsController } from './embeddings/embeddings.controller';
import { MessageTokenCounter } from './messages/message-token-counter';
import { MessagesController } from './messages/messages.controller';
import { ModelsController } from './models/models.controller';
import { ResponsesController } from './responses/responses.controller';
import { ResponsesService } from './responses/responses.service';

/** The wire formats clients speak: each door parses its request and renders the pipeline's result. */
@Module({
  imports: [PipelineModule, PolicyModule, RoutingModule, ResponsesStoreModule],
  controllers: [
    ChatCompletionsController,
    EmbeddingsController,
    ModelsController,
    MessagesController,
    ResponsesController,
  ],
  providers: [MessageTokenCounter, ResponsesService],
})
export class DoorsModule {}
