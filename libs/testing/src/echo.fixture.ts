import { Body, Controller, Module, Post } from '@nestjs/common';
import { IsInt, IsString, Max, Min } from 'class-validator';

class EchoDto {
  @IsString()
  text!: string;

  @IsInt()
  @Min(0)
  @Max(10)
  count!: number;
}

/** A POST route for testing body handling (JSON only, size limit, validation) on a real app. */
@Controller('__test')
class EchoController {
  @Post('echo')
  echo(@Body() body: EchoDto): EchoDto {
    return body;
  }
}

@Module({ controllers: [EchoController] })
export class EchoFixtureModule {}
