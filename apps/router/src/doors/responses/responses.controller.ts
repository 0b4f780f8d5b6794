import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Caller, CurrentCaller, Scopes } from '@app/auth';
import { CallPipeline } from '../../pipeline/pipeline';
import { callRequestFrom, writeCallHeaders } from '../door-request';
import { ModelCallRoute, ResponsesCreateDocs, ResponsesDeleteDocs, ResponsesRetrieveDocs } from '../openapi';
import { parseResponsesRequest } from './responses-request';
import { sendResponsesStream } from './responses-sse';
import { ResponsesService } from './responses.service';
import type { ResponseObject } from './responses.types';

/**
 * The OpenAI Responses door. Every model, whatever its vendor, is called through the canonical
 * chat request (see README "The Responses API"): one pipeline, so limits, PII, cache, fallbacks
 * across vendors and usage apply alike; OpenAI's hosted tools are refused with a 400.
 */
@ApiTags('responses')
@Controller('v1/responses')
export class ResponsesController {
  constructor(
    private readonly pipeline: CallPipeline,
    private readonly responses: ResponsesService,
  ) {}

  @Post()
  @ModelCallRoute(
    {
      summary:
        'Create a model response (OpenAI Responses API); `stream: true` answers with its server-sent events',
      description:
        'Any catalog model or alias. `store` (default true) keeps the response for `previous_response_id`, ' +
        'GET and DELETE, per tenant, encrypted, for ATP_RESPONSES_TTL_SECONDS (30 days). Function tools only: ' +
        'hosted tools (web_search, file_search, …), `background`, `conversation` and `prompt` are a 400 naming the field.',
    },
    ResponsesCreateDocs(),
  )
  async create(
    @CurrentCaller() caller: Caller,
    @Body() raw: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const turn = await this.responses.begin(caller, parseResponsesRequest(raw));
    const call = callRequestFrom(req, reply, 'responses', caller, turn.chat);
    if (turn.req.stream) {
      return sendResponsesStream(reply, await this.pipeline.stream(call), turn, this.responses);
    }
    const { response, meta } = await this.pipeline.complete(call);
    const body = await this.responses.complete(turn, meta.model, response);
    writeCallHeaders(reply, meta.headers);
    await reply.status(200).send(body);
  }

  @Get(':id')
  @Scopes('llm')
  @ApiOperation({ summary: 'A stored response (404 when absent, expired, erased or another tenant’s)' })
  @ApiParam({ name: 'id', description: 'resp_…' })
  @ResponsesRetrieveDocs()
  retrieve(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<ResponseObject> {
    return this.responses.get(caller, id);
  }

  @Delete(':id')
  @HttpCode(200)
  @Scopes('llm')
  @ApiOperation({ summary: 'Deletes a stored response' })
  @ApiParam({ name: 'id', description: 'resp_…' })
  @ResponsesDeleteDocs()
  remove(@CurrentCaller() caller: Caller, @Param('id') id: string) {
    return this.responses.delete(caller, id);
  }
}
