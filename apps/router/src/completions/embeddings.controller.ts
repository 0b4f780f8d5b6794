import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Principal, Scopes } from '@app/auth';
import { parseEmbeddingRequest } from './chat-request';
import { EmbeddingsService } from './embeddings.service';
import { EmbeddingsDocs } from './openapi';

@ApiTags('embeddings')
@Controller('v1')
export class EmbeddingsController {
  constructor(private readonly embeddings: EmbeddingsService) {}

  @Post('embeddings')
  @HttpCode(200)
  @Scopes('llm')
  @ApiOperation({
    summary: 'Create embeddings (OpenAI schema)',
    description:
      '`encoding_format`: `float` (default) or `base64` (little-endian float32). `input`: at most 2048 items, ' +
      'no empty string, each within the model context window, 300k tokens in all. `dimensions`: ' +
      'text-embedding-3-* and Gemini embedding models (outputDimensionality) and the mock; a 400 naming ' +
      '`dimensions` for models with one fixed size or out of their range.',
  })
  @EmbeddingsDocs()
  create(
    @Principal() principal: Principal,
    @Body() raw: unknown,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.embeddings.create(principal, parseEmbeddingRequest(raw), req, reply);
  }
}
