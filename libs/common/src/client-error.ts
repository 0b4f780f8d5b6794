import http from 'node:http';
import type { Socket } from 'node:net';
import { errorTypeForStatus } from './errors';

/**
 * Requests Node's HTTP parser rejects before Fastify sees a request (headers over the 16 KiB
 * limit, a malformed request line, a client that never finishes its headers): answered on the
 * socket in the envelope, as Fastify's default handler does in its own shape, then closed.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request_timeout', 'The request was not received in time']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers_too_large', 'The request headers (URL included) are larger than the 16 KiB allowed']
        : [400, 'invalid_request', 'The request is not valid HTTP'];
  const body = JSON.stringify({ error: { message, type: errorTypeForStatus(status), code, param: null } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
