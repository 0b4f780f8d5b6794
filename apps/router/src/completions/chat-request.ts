import { AtpError } from '@app/common';
import {
  type ChatRequest,
  ChatRequestSchema,
  type EmbeddingRequest,
  EmbeddingRequestSchema,
} from '@app/providers';
import type { z } from 'zod';

function parseWith<T>(schema: z.ZodType<T>, body: unknown): T {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw AtpError.badRequest('invalid_request', 'The request body must be a JSON object');
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const param = issue.path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`))
    .join('');
  throw AtpError.badRequest(
    'invalid_request',
    `Invalid value for '${param || 'body'}': ${issue.message}`,
    param || undefined,
  );
}

/** Validates a chat completion request against OpenAI's schema, naming the first bad field. */
export function parseChatRequest(body: unknown): ChatRequest {
  const req = parseWith(ChatRequestSchema, body);
  // One stream carries one answer here: interleaving n vendor streams is not offered.
  if ((req.n ?? 1) > 1 && req.stream) {
    throw AtpError.badRequest('invalid_request', "'n' above 1 is not supported with 'stream: true'", 'n');
  }
  return req;
}
export const parseEmbeddingRequest = (body: unknown): EmbeddingRequest =>
  parseWith(EmbeddingRequestSchema, body);
