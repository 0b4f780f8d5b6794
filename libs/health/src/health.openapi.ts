import type { SchemaObject } from '@nestjs/swagger';

/** OpenAPI schemas of /health and /ready (terminus' shape for the latter). */
export const LIVENESS_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['status', 'service'],
  properties: {
    status: { type: 'string', enum: ['ok'] },
    service: { type: 'string', example: 'router' },
  },
};

const dependencies: SchemaObject = {
  type: 'object',
  description: 'Per dependency (database, redis): status up/down and, when down, a message',
  additionalProperties: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['up', 'down'] }, message: { type: 'string' } },
  },
  example: { database: { status: 'up' }, redis: { status: 'up' } },
};

export function readinessSchema(status: 'ok' | 'error'): SchemaObject {
  return {
    type: 'object',
    required: ['status', 'info', 'error', 'details'],
    properties: {
      status: { type: 'string', enum: [status] },
      info: dependencies,
      error: dependencies,
      details: dependencies,
    },
  };
}
