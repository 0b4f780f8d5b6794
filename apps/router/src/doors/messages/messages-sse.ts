import type { FastifyReply } from 'fastify';
import { type StreamedCall, StreamCut } from '../../pipeline/call';
import { openCallStream } from '../event-stream';
import { toAnthropicError } from './messages-errors';
import { type MessagesEvent, MessagesStreamRenderer } from './messages-stream';

/**
 * A streamed call as the Messages API's server-sent events. The closing `message_delta` and
 * `message_stop` go out once the canonical stream ended, i.e. after the ledger recorded the call;
 * a stream cut after its first chunk ends with Anthropic's `error` event instead.
 */
export async function sendMessagesStream(reply: FastifyReply, call: StreamedCall): Promise<void> {
  const out = await openCallStream(reply, call);
  const renderer = new MessagesStreamRenderer(call.meta.model);
  const send = async (events: MessagesEvent[]) => {
    for (const e of events) await out.event(e.event, JSON.stringify(e.data));
  };
  try {
    for await (const chunk of call.chunks) await send(renderer.chunk(chunk));
    await send(renderer.finish());
  } catch (err) {
    if (!(err instanceof StreamCut)) throw err;
    const { status } = err.error;
    if (!err.clientGone)
      await out.event('error', JSON.stringify(toAnthropicError(status, err.error.toEnvelope())));
  } finally {
    out.end();
  }
}
