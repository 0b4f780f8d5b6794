import { ApiProperty } from '@nestjs/swagger';

const tokenArray = { type: 'array', items: { type: 'integer' }, minItems: 1 };

/** POST /v1/embeddings body (OpenAI schema). */
export class CreateEmbeddingRequest {
  @ApiProperty({ description: 'Embedding model id or alias', example: 'text-embedding-3-small' })
  model!: string;

  @ApiProperty({
    description: 'Text, texts, a token array or token arrays',
    oneOf: [
      { type: 'string' },
      { type: 'array', items: { type: 'string' }, minItems: 1 },
      tokenArray,
      { type: 'array', items: tokenArray, minItems: 1 },
    ],
    example: ['The food was delicious', 'and the waiter…'],
  })
  input!: string | string[] | number[] | number[][];

  @ApiProperty({
    required: false,
    enum: ['float', 'base64'],
    description: '`base64`: little-endian float32, as OpenAI sends it',
  })
  encoding_format?: 'float' | 'base64';

  @ApiProperty({
    required: false,
    type: 'integer',
    minimum: 1,
    description: 'Vector size, where the model supports it',
  })
  dimensions?: number;

  @ApiProperty({ required: false })
  user?: string;
}

export class Embedding {
  @ApiProperty({ enum: ['embedding'] })
  object!: 'embedding';

  @ApiProperty({ type: 'integer' })
  index!: number;

  @ApiProperty({
    description: 'Floats, or a base64 string of float32 values when encoding_format is base64',
    oneOf: [
      { type: 'array', items: { type: 'number' } },
      { type: 'string', format: 'byte' },
    ],
  })
  embedding!: number[] | string;
}

export class EmbeddingUsage {
  @ApiProperty({ type: 'integer' }) prompt_tokens!: number;
  @ApiProperty({ type: 'integer' }) total_tokens!: number;
}

export class CreateEmbeddingResponse {
  @ApiProperty({ enum: ['list'] })
  object!: 'list';

  @ApiProperty({ type: () => [Embedding] })
  data!: Embedding[];

  @ApiProperty()
  model!: string;

  @ApiProperty({ type: () => EmbeddingUsage })
  usage!: EmbeddingUsage;
}
