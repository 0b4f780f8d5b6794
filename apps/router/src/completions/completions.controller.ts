import { Body, Controller, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Principal, Scopes } from '@app/auth';
import { parseChatRequest } from './chat-request';
import { CompletionsService } from './completions.service';
import { ChatCompletionsDocs } from './openapi';

@ApiTags('chat')
@Controller('v1/chat')
export class CompletionsController {
  constructor(private readonly completions: CompletionsService) {}

  @Post('completions')
  @Scopes('llm')
  @ApiOperation({
    summary: 'Create a chat completion (OpenAI schema); `stream: true` answers with server-sent events',
    description:
      '`n`: 1..8 choices (OpenAI natively, other providers by parallel calls, usage summed); `n > 1` with ' +
      '`stream: true` is a 400. The final `choices: []` usage chunk is sent only with `stream_options.include_usage`.',
  })
  @ChatCompletionsDocs()
  async create(
    @Principal() principal: Principal,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.completions.handle(principal, parseChatRequest(body), req, reply);
  }
}
