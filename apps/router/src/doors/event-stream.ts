import type { FastifyReply } from 'fastify';
import type { StreamedCall } from '../pipeline/call';

/** A server-sent event stream on a hijacked reply. */
export interface EventStream {
  /** Sends one event (`event: <name>` when named) with `data`; waits while the socket is full. */
  event(name: string | null, data: string): Promise<void>;
  /** The client is gone: nothing more can be sent. */
  readonly closed: boolean;
  end(): void;
}

/**
 * Sends the SSE head (the call's headers and the request id: a hijacked reply skips Fastify's
 * hooks) and returns a writer that respects backpressure. The events written in one tick go out
 * in one write: the socket is corked on the first event of a tick and uncorked once the tick's
 * promise jobs have run (a syscall per event was the largest cost of a streamed answer).
 */
export function openEventStream(reply: FastifyReply, headers: Record<string, string>): EventStream {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-request-id': String(reply.request.id),
    ...headers,
  });
  let corked = false;
  const uncork = () => {
    corked = false;
    // end() has already uncorked fully (and the socket may serve the next request by now).
    if (!raw.writableEnded) raw.uncork();
  };
  return {
    get closed() {
      return raw.destroyed;
    },
    async event(name, data) {
      if (raw.destroyed) return;
      if (!corked) {
        corked = true;
        raw.cork();
        process.nextTick(uncork);
      }
      const frame = name === null ? `data: ${data}\n\n` : `event: ${name}\ndata: ${data}\n\n`;
      if (!raw.write(frame))
        await new Promise<void>((r) => raw.once('drain', () => r()).once('close', () => r()));
    },
    end() {
      if (!raw.destroyed) raw.end();
    },
  };
}

/**
 * Opens the event stream of a streamed call. When the head cannot be written (the client already
 * gone, a header value refused), the call is cancelled first (the upstream stopped, its ledger
 * closed) and the error goes on to the door's error handling.
 */
export async function openCallStream(reply: FastifyReply, call: StreamedCall): Promise<EventStream> {
  try {
    return openEventStream(reply, call.meta.headers);
  } catch (err) {
    await call.cancel();
    throw err;
  }
}
