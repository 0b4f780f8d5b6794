import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { dependencyOutage } from '@app/observability';
import { mapError } from './error-mapping';
import type { ErrorEnvelope, ErrorRouteConfig } from './errors';

/** One global filter: every error leaves as the CONTRACT §4 envelope. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const mapped = mapError(exception);
    if (mapped.dependency) dependencyOutage(mapped.dependency).failed(exception, true);
    else if (mapped.unexpected) this.logger.error({ err: exception }, 'request failed');
    sendError(reply, mapped.status, mapped.body, mapped.headers);
  }
}

/** Sends an error envelope, in the route's own shape when it renders errors (ErrorRouteConfig). */
export function sendError(
  reply: FastifyReply,
  status: number,
  body: ErrorEnvelope,
  headers: Record<string, string> = {},
): void {
  if (reply.sent || reply.raw.headersSent) {
    // A stream already started: all we can do is end it.
    if (!reply.raw.writableEnded) reply.raw.end();
    return;
  }
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  const render = (reply.request.routeOptions?.config as ErrorRouteConfig | undefined)?.renderError;
  reply
    .status(status)
    .header('content-type', 'application/json; charset=utf-8')
    .send(render ? render(status, body) : body);
}
