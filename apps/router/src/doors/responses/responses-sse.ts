import type { FastifyReply } from 'fastify';
import { AtpError, mapError } from '@app/common';
import { type StreamedCall, StreamCut } from '../../pipeline/call';
import { type EventStream, openCallStream } from '../event-stream';
import { ResponsesStreamRenderer } from './responses-stream';
import type { ResponsesService, ResponseTurn } from './responses.service';
import type { ResponseStreamEvent } from './responses.types';

async function send(out: EventStream, events: ResponseStreamEvent[]): Promise<void> {
  for (const e of events) await out.event(e.type, JSON.stringify(e));
}

/**
 * A streamed response over SSE: `event: <type>` / `data: <event>` pairs, from `response.created`
 * to `response.completed` (no `[DONE]`, as at OpenAI). The response is stored before its last
 * event goes out. A stream cut after its first chunk ends with `response.failed` (the call is
 * already billed by then); nothing is written to a client that is gone.
 */
export async function sendResponsesStream(
  reply: FastifyReply,
  call: StreamedCall,
  turn: ResponseTurn,
  responses: ResponsesService,
): Promise<void> {
  const renderer = new ResponsesStreamRenderer(responses.shell(turn, call.meta.model), turn.ids);
  const out = await openCallStream(reply, call);
  try {
    await send(out, renderer.start());
    for await (const chunk of call.chunks) await send(out, renderer.chunk(chunk));
    const last = renderer.end();
    await responses.keep(turn, renderer.response()!);
    await send(out, last);
  } catch (err) {
    if (err instanceof StreamCut && err.clientGone) return;
    // A cut upstream, the shutdown, or the store failing after the answer: the door's error event.
    const error = err instanceof StreamCut ? err.error : asAtpError(err);
    await send(out, renderer.fail({ code: error.code, message: error.message }));
  } finally {
    out.end();
  }
}

function asAtpError(err: unknown): AtpError {
  if (err instanceof AtpError) return err;
  const mapped = mapError(err);
  return new AtpError(mapped.status, mapped.body.error.code ?? 'server_error', mapped.body.error.message);
}
