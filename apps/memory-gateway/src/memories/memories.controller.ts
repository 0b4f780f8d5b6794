import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Put,
  Query,
  Res,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { type Caller, CurrentCaller, Scopes } from '@app/auth';
import { MemoriesService } from './memories.service';
import {
  ListMemoryQueryDto,
  PutMemoryDto,
  type RecordDto,
  type RecordSummaryDto,
  SearchMemoryDto,
  type SearchResultDto,
  type WrittenRecordDto,
} from './memory.dto';
import { MemorySearchService } from './memory-search.service';
import { etagOf } from './memory-names';

@ApiTags('memory')
@Controller('v1/memory')
export class MemoriesController {
  constructor(
    private readonly memories: MemoriesService,
    private readonly searcher: MemorySearchService,
  ) {}

  @Put(':namespace/:key')
  @Scopes('memory:write')
  @ApiOperation({
    summary: 'Creates (201) or replaces (200) a record; If-Match: <version> for optimistic concurrency',
  })
  async put(
    @CurrentCaller() caller: Caller,
    @Param('namespace') namespace: string,
    @Param('key') key: string,
    @Body() body: PutMemoryDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<WrittenRecordDto> {
    const { created, record } = await this.memories.put(caller, { namespace, key }, body, ifMatch);
    reply.status(created ? 201 : 200).header('etag', etagOf(record.version));
    return record;
  }

  @Get(':namespace/:key')
  @Scopes('memory:read')
  @ApiOperation({ summary: 'A record with its value; ETag = version' })
  async get(
    @CurrentCaller() caller: Caller,
    @Param('namespace') namespace: string,
    @Param('key') key: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RecordDto> {
    const record = await this.memories.get(caller, { namespace, key });
    reply.header('etag', etagOf(record.version));
    return record;
  }

  @Delete(':namespace/:key')
  @Scopes('memory:write')
  @HttpCode(204)
  @ApiOperation({ summary: 'Deletes a record (If-Match optional)' })
  async delete(
    @CurrentCaller() caller: Caller,
    @Param('namespace') namespace: string,
    @Param('key') key: string,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<void> {
    await this.memories.delete(caller, { namespace, key }, ifMatch);
  }

  @Delete(':namespace')
  @Scopes('memory:write')
  @ApiOperation({ summary: 'Deletes every record of a namespace' })
  deleteNamespace(
    @CurrentCaller() caller: Caller,
    @Param('namespace') namespace: string,
  ): Promise<{ deleted: number }> {
    return this.memories.deleteNamespace(caller, namespace);
  }

  @Get(':namespace')
  @Scopes('memory:read')
  @ApiOperation({ summary: 'Lists records (no values), by key, with prefix/tag filters and a cursor' })
  list(
    @CurrentCaller() caller: Caller,
    @Param('namespace') namespace: string,
    @Query() query: ListMemoryQueryDto,
  ): Promise<{ items: RecordSummaryDto[]; next_cursor: string | null }> {
    return this.memories.list(caller, namespace, query);
  }

  @Post(':namespace/search')
  @Scopes('memory:read')
  @HttpCode(200)
  @ApiOperation({ summary: 'Ranked search through the blind index (no plaintext index exists)' })
  search(
    @CurrentCaller() caller: Caller,
    @Param('namespace') namespace: string,
    @Body() body: SearchMemoryDto,
  ): Promise<{ results: SearchResultDto[] }> {
    return this.searcher.search(caller, namespace, body);
  }
}
