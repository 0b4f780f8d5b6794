import type { FastifyReply } from 'fastify';
import type { ChatChunk, ChatRequest } from '@app/providers';
import { type StreamedCall, StreamCut } from '../../pipeline/call';
import { openCallStream } from '../event-stream';

/**
 * What the client sees of a chunk. The pipeline always ends a stream with a usage chunk
 * (`choices: []`) so the call can be billed; OpenAI sends that chunk, and `usage` at all, only
 * when `stream_options.include_usage` is true, and the common client loop
 * (`chunk.choices[0].delta`) breaks on an empty list. Null: the chunk is not sent.
 */
export function clientChunk(chunk: ChatChunk, body: ChatRequest): ChatChunk | null {
  if (body.stream_options?.include_usage) return chunk;
  if (chunk.choices.length === 0) return null;
  if (chunk.usage === undefined) return chunk;
  const { usage: _usage, ...rest } = chunk;
  return rest;
}

/**
 * Chat completions over SSE: `data: <chat.completion.chunk>` lines and `data: [DONE]`; a stream
 * cut after its first chunk ends with `data: <error envelope>` instead of [DONE].
 */
export async function sendChatStream(
  reply: FastifyReply,
  call: StreamedCall,
  body: ChatRequest,
): Promise<void> {
  const out = await openCallStream(reply, call);
  try {
    for await (const chunk of call.chunks) {
      const sent = clientChunk(chunk, body);
      if (sent) await out.event(null, JSON.stringify(sent));
    }
    await out.event(null, '[DONE]');
  } catch (err) {
    if (!(err instanceof StreamCut)) throw err;
    if (!err.clientGone) await out.event(null, JSON.stringify(err.error.toEnvelope()));
  } finally {
    out.end();
  }
}
