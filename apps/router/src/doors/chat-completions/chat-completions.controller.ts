import { Body, Controller, Post, Req, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Caller, CurrentCaller } from '@app/auth';
import { CallPipeline } from '../../pipeline/pipeline';
import { callRequestFrom, writeCallHeaders } from '../door-request';
import { ChatCompletionsDocs, ModelCallRoute } from '../openapi';
import { parseChatRequest } from './chat-request';
import { sendChatStream } from './chat-stream';

/** The OpenAI chat completions door: its wire format is the pipeline's canonical one. */
@ApiTags('chat')
@Controller('v1/chat')
export class ChatCompletionsController {
  constructor(private readonly pipeline: CallPipeline) {}

  @Post('completions')
  @ModelCallRoute(
    {
      summary: 'Create a chat completion (OpenAI schema); `stream: true` answers with server-sent events',
      description:
        '`n`: 1..8 choices (OpenAI natively, other providers by parallel calls, usage summed); `n > 1` with ' +
        '`stream: true` is a 400. The final `choices: []` usage chunk is sent only with `stream_options.include_usage`.',
    },
    ChatCompletionsDocs(),
  )
  async create(
    @CurrentCaller() caller: Caller,
    @Body() raw: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const body = parseChatRequest(raw);
    const call = callRequestFrom(req, reply, 'chat', caller, body);
    if (body.stream) return sendChatStream(reply, await this.pipeline.stream(call), body);
    const { response, meta } = await this.pipeline.complete(call);
    writeCallHeaders(reply, meta.headers);
    await reply.status(200).send(response);
  }
}
