import { AtpError } from '@app/common';
import { type ChatRequest, ChatRequestSchema } from '@app/providers';
import { parseWith } from '../parse-body';

/** Validates a chat completion request against OpenAI's schema, naming the first bad field. */
export function parseChatRequest(body: unknown): ChatRequest {
  const req = parseWith(ChatRequestSchema, body);
  // One stream carries one answer here: interleaving n vendor streams is not offered.
  if ((req.n ?? 1) > 1 && req.stream) {
    throw AtpError.badRequest('invalid_request', "'n' above 1 is not supported with 'stream: true'", 'n');
  }
  return req;
}
