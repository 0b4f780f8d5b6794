import { ApiProperty } from '@nestjs/swagger';

/** OpenAI `model` object, with ATP's deprecation fields. */
export class Model {
  @ApiProperty({ description: 'Catalog id, route alias or provider/model id', example: 'gpt-4o-mini' })
  id!: string;

  @ApiProperty({ enum: ['model'] })
  object!: 'model';

  @ApiProperty({
    description: 'Unix seconds (fixed: the catalog has no creation dates)',
    example: 1735689600,
  })
  created!: number;

  @ApiProperty({ description: 'Provider id, or `atp` for a route alias', example: 'openai' })
  owned_by!: string;

  @ApiProperty({
    required: false,
    enum: [true],
    description: 'Present when the vendor retired (or retires) the model',
  })
  deprecated?: true;

  @ApiProperty({
    required: false,
    format: 'date',
    example: '2026-02-19',
    description: "The vendor's retirement date",
  })
  deprecation_date?: string;

  @ApiProperty({
    required: false,
    example: 'claude-haiku-4-5',
    description: 'The successor the vendor names',
  })
  replacement?: string;

  @ApiProperty({
    type: 'array',
    items: { type: 'string', enum: ['chat', 'responses', 'messages', 'embeddings'] },
    example: ['chat', 'responses', 'messages'],
    description:
      'ATP: the front doors that reach this model — chat (/v1/chat/completions), responses (/v1/responses), ' +
      'messages (/v1/messages) for every chat model whatever its vendor; embeddings (/v1/embeddings)',
  })
  doors!: string[];
}

export class ModelList {
  @ApiProperty({ enum: ['list'] })
  object!: 'list';

  @ApiProperty({ type: () => [Model] })
  data!: Model[];
}
