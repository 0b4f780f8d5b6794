import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Caller } from '@app/auth';
import { CallAbort, type ChatRequest, type EmbeddingRequest } from '@app/providers';
import type { CallOptions, CallRequest, Door, EmbedRequest } from '../pipeline/call';

/** Aborted when the client goes away before its response is complete (the upstream call stops). */
export function abortOnHangUp(reply: FastifyReply): CallAbort {
  const signal = new CallAbort();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) signal.abort(new Error('client closed the connection'));
  });
  return signal;
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

/** The gateway headers every door honours: the response cache and the session. */
export function callOptionsOf(req: FastifyRequest): CallOptions {
  const sessionId = header(req, 'x-atp-session-id');
  // The memory gateway gets the caller's own credential, whichever header it came in.
  const xApiKey = header(req, 'x-api-key');
  return {
    cacheDirective: header(req, 'x-atp-cache'),
    cacheTtl: header(req, 'x-atp-cache-ttl'),
    sessionId: sessionId || undefined,
    sessionAuthorization: sessionId
      ? (req.headers.authorization ?? (xApiKey ? `Bearer ${xApiKey.trim()}` : ''))
      : undefined,
  };
}

/** A chat call as the pipeline takes it, from a door's canonical body and its Fastify request. */
export function callRequestFrom(
  req: FastifyRequest,
  reply: FastifyReply,
  door: Door,
  caller: Caller,
  body: ChatRequest,
): CallRequest {
  return {
    door,
    caller,
    body,
    options: callOptionsOf(req),
    signal: abortOnHangUp(reply),
    started: Date.now(),
  };
}

/** An embeddings call as the pipeline takes it. */
export function embedRequestFrom(
  req: FastifyRequest,
  reply: FastifyReply,
  caller: Caller,
  body: EmbeddingRequest,
): EmbedRequest {
  return {
    door: 'embeddings',
    caller,
    body,
    options: callOptionsOf(req),
    signal: abortOnHangUp(reply),
    started: Date.now(),
  };
}

/** Writes the pipeline's headers (x-atp-*, x-ratelimit-*) on a JSON answer. */
export function writeCallHeaders(reply: FastifyReply, headers: Record<string, string>): void {
  for (const name in headers) reply.header(name, headers[name]);
}
