import { AtpError } from '@app/common';

/** What a call the client abandoned ends with: nothing is answered, and 499 is what gets recorded. */
export function clientClosedError(): AtpError {
  return new AtpError(499, 'client_closed_request', 'The client closed the connection');
}

/** What a call still running when the shutdown grace runs out ends with (a retryable 503). */
export function shuttingDownError(): AtpError {
  return AtpError.unavailable(
    'server_shutting_down',
    'The server is shutting down and ended this request before it finished; retry it (another instance will serve it)',
  );
}
