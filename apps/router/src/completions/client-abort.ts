import type { FastifyReply } from 'fastify';
import { AtpError } from '@app/common';
import { CallAbort } from '@app/providers';

/** Aborted when the client goes away before its response is complete (the upstream call stops). */
export function abortOnHangUp(reply: FastifyReply): CallAbort {
  const signal = new CallAbort();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) signal.abort(new Error('client closed the connection'));
  });
  return signal;
}

/** What a call the client abandoned ends with: nothing is answered, and 499 is what gets recorded. */
export function clientClosedError(): AtpError {
  return new AtpError(499, 'client_closed_request', 'The client closed the connection');
}
