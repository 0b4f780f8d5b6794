import { ApiProperty } from '@nestjs/swagger';

/** The error envelope every failure uses (docs/CONTRACT.md). */
export class ErrorDetail {
  @ApiProperty({ description: 'What went wrong, for people', example: "'model' is required" })
  message!: string;

  @ApiProperty({
    description: 'OpenAI-style error family',
    example: 'invalid_request_error',
    enum: [
      'invalid_request_error',
      'authentication_error',
      'permission_error',
      'not_found_error',
      'rate_limit_error',
      'api_error',
      'upstream_error',
    ],
  })
  type!: string;

  @ApiProperty({
    type: String,
    description: 'Stable machine-readable code',
    example: 'invalid_request',
    nullable: true,
  })
  code!: string | null;

  @ApiProperty({
    type: String,
    description: 'The request field at fault, when there is one',
    example: 'model',
    nullable: true,
  })
  param!: string | null;
}

export class ErrorResponse {
  @ApiProperty({ type: () => ErrorDetail })
  error!: ErrorDetail;
}
