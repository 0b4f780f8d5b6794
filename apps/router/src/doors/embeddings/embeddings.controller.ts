import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Caller, CurrentCaller } from '@app/auth';
import { CallPipeline } from '../../pipeline/pipeline';
import { embedRequestFrom, writeCallHeaders } from '../door-request';
import { EmbeddingsDocs, ModelCallRoute } from '../openapi';
import { encodeEmbeddings, parseEmbeddingRequest, type WireEmbeddingResponse } from './embedding-params';

/** The OpenAI embeddings door. */
@ApiTags('embeddings')
@Controller('v1')
export class EmbeddingsController {
  constructor(private readonly pipeline: CallPipeline) {}

  @Post('embeddings')
  @HttpCode(200)
  @ModelCallRoute(
    {
      summary: 'Create embeddings (OpenAI schema)',
      description:
        '`encoding_format`: `float` (default) or `base64` (little-endian float32). `input`: at most 2048 items, ' +
        'no empty string, each within the model context window, 300k tokens in all. `dimensions`: ' +
        'text-embedding-3-* and Gemini embedding models (outputDimensionality) and the mock; a 400 naming ' +
        '`dimensions` for models with one fixed size or out of their range.',
    },
    EmbeddingsDocs(),
  )
  async create(
    @CurrentCaller() caller: Caller,
    @Body() raw: unknown,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<WireEmbeddingResponse> {
    const body = parseEmbeddingRequest(raw);
    const { response, meta } = await this.pipeline.embed(embedRequestFrom(req, reply, caller, body));
    writeCallHeaders(reply, meta.headers);
    return encodeEmbeddings(response, body.encoding_format);
  }
}
