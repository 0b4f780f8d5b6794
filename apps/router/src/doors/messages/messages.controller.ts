import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Caller, CurrentCaller, Scopes } from '@app/auth';
import type { ErrorRouteConfig } from '@app/common';
import { CallPipeline } from '../../pipeline/pipeline';
import { callRequestFrom, writeCallHeaders } from '../door-request';
import { CountTokensDocs, MessagesDocs } from '../openapi';
import { MessageTokenCounter } from './message-token-counter';
import { toAnthropicError } from './messages-errors';
import {
  countTokensPrompt,
  parseCountTokensRequest,
  parseMessagesRequest,
  toCanonical,
} from './messages-request';
import { toMessagesResponse } from './messages-response';
import { sendMessagesStream } from './messages-sse';

/** Every error on this door's routes (auth, body parsing, refusals, upstream) in Anthropic's shape. */
const ANTHROPIC_ERRORS: ErrorRouteConfig = { renderError: toAnthropicError };

/**
 * The Anthropic Messages API door: any catalog model (Claude, GPT, Gemini, …) behind Anthropic's
 * wire format. `anthropic-version` is accepted and not needed (one version exists, 2023-06-01);
 * `x-api-key` and `Authorization: Bearer` both authenticate.
 */
@ApiTags('messages')
@Controller('v1/messages')
export class MessagesController {
  constructor(
    private readonly pipeline: CallPipeline,
    private readonly counter: MessageTokenCounter,
  ) {}

  @Post()
  // Above @Scopes: its 401/403 are documented in Anthropic's shape here.
  @MessagesDocs()
  @Scopes('llm')
  @RouteConfig(ANTHROPIC_ERRORS)
  @ApiOperation({
    summary: 'Create a message (Anthropic Messages API); `stream: true` answers with its server-sent events',
  })
  async create(@CurrentCaller() caller: Caller, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    // The JSON body as parsed (validated here, not by a pipe: Anthropic's messages name the field).
    const body = toCanonical(parseMessagesRequest(req.body));
    const call = callRequestFrom(req, reply, 'messages', caller, body);
    if (body.stream) return sendMessagesStream(reply, await this.pipeline.stream(call));
    const { response, meta } = await this.pipeline.complete(call);
    writeCallHeaders(reply, meta.headers);
    await reply.status(200).send(toMessagesResponse(response, meta.model));
  }

  @Post('count_tokens')
  @HttpCode(200)
  @CountTokensDocs()
  @Scopes('llm')
  @RouteConfig(ANTHROPIC_ERRORS)
  @ApiOperation({
    summary:
      "Count a message's input tokens (the router's estimate, the one its tokens-per-minute limit charges)",
  })
  count(@CurrentCaller() caller: Caller, @Body() raw: unknown): Promise<{ input_tokens: number }> {
    return this.counter.count(caller, countTokensPrompt(parseCountTokensRequest(raw)));
  }
}
