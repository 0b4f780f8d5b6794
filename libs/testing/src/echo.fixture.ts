import { Body, Controller, Delete, Get, HttpCode, Module, Param, Post } from '@nestjs/common';
import { IsInt, IsString, Max, Min } from 'class-validator';

class EchoDto {
  @IsString()
  text!: string;

  @IsInt()
  @Min(0)
  @Max(10)
  count!: number;
}

/**
 * Routes for testing what every service does around a handler on a real app: body handling
 * (JSON only, size limit, validation), path parameters, DELETE without a body, and a slow
 * request to hold a connection while the server drains.
 */
@Controller('__test')
class EchoController {
  @Post('echo')
  echo(@Body() body: EchoDto): EchoDto {
    return body;
  }

  @Get('echo/:name')
  name(@Param('name') name: string): { name: string } {
    return { name };
  }

  @Delete('echo/:name')
  @HttpCode(204)
  remove(): void {}

  @Get('slow')
  async slow(): Promise<{ done: true }> {
    await new Promise((r) => setTimeout(r, 600));
    return { done: true };
  }
}

@Module({ controllers: [EchoController] })
export class EchoFixtureModule {}
