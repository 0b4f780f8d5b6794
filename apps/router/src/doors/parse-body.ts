import { AtpError } from '@app/common';
import type { z } from 'zod';

/**
 * Validates a JSON body against a door's zod schema; the 400 names the first bad field the way
 * OpenAI does (`messages[0].content`).
 */
export function parseWith<T>(schema: z.ZodType<T>, body: unknown): T {
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
