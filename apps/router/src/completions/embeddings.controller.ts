import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Principal, Scopes } from '@app/auth';
import { parseEmbeddingRequest } from './chat-request';
import { EmbeddingsService } from './embeddings.service';

@ApiTags('embeddings')
@Controller('v1')
export class EmbeddingsController {
  constructor(private readonly embeddings: EmbeddingsService) {}

  @Post('embeddings')
  @HttpCode(200)
  @Scopes('llm')
  @ApiOperation({ summary: 'Create embeddings (OpenAI schema)' })
  @ApiBody({ schema: { type: 'object', required: ['model', 'input'], additionalProperties: true } })
  create(
    @Principal() principal: Principal,
    @Body() raw: unknown,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.embeddings.create(principal, parseEmbeddingRequest(raw), req, reply);
  }
}
