import type { Readable } from 'node:stream';
import { Body, Controller, Header, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, type Caller, CurrentCaller } from '@app/auth';
import { PiiResponseDto, PiiTextDto } from './pii.dto';
import { PiiService } from './pii.service';

@ApiTags('pii')
@Controller('v1/pii')
@Authenticated()
export class PiiController {
  constructor(private readonly pii: PiiService) {}

  @Post('detect')
  @HttpCode(200)
  @Header('content-type', 'application/json; charset=utf-8')
  @ApiOkResponse({ type: PiiResponseDto })
  @ApiOperation({
    summary: 'Finds PII and secrets in a text: types, offsets, scores (never the matched text)',
  })
  /** The body comes serialized from PiiService (see there); its shape is PiiResponseDto. */
  detect(@CurrentCaller() caller: Caller, @Body() body: PiiTextDto): Promise<Buffer | Readable> {
    return this.pii.apply(caller, body.text, body.mode ?? 'detect', false);
  }

  @Post('redact')
  @HttpCode(200)
  @Header('content-type', 'application/json; charset=utf-8')
  @ApiOkResponse({ type: PiiResponseDto })
  @ApiOperation({ summary: 'Returns the text with PII redacted (or masked / hashed with the tenant key)' })
  redact(@CurrentCaller() caller: Caller, @Body() body: PiiTextDto): Promise<Buffer | Readable> {
    return this.pii.apply(caller, body.text, body.mode ?? 'redact', true);
  }
}
