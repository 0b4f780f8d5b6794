import { spawn } from 'node:child_process';
import type { Server as HttpServer } from 'node:http';
import { createServer, type Server, type ServerOpts, type Socket } from 'node:net';

/**
 * Extra "accept lanes" on a listening socket, so that a busy process still takes in new
 * connections at the rate they arrive.
 *
 * Why: libuv (1.45+, so Node 20) accepts ONE connection per turn of the event loop for each
 * listening descriptor (libuv#3696: it relies on level-triggered polling instead of accepting in
 * a loop). When the loop is saturated, one turn serves hundreds of ready sockets and lasts
 * 50–250 ms, so new connections are accepted at 4–20 a second while the accepted ones are served
 * over and over: measured with 500 connections opened at once on a warm router (bench/README,
 * "Accepting under load"), the first request of 162 of them waited in the kernel's accept queue
 * for up to 4.3 s while the other connections' requests took 115 ms at p99.
 *
 * How: each lane is another descriptor for the SAME listening socket (same port, same accept
 * queue), registered with the loop on its own, so a turn accepts up to 1 + lanes connections.
 * Node 20 has no dup() and no SO_REUSEPORT (`reusePort` came in Node 22.12), so the descriptors
 * are made the one way Node offers: the socket's handle is sent over IPC to a short-lived child
 * process, which sends it back `lanes` times; every handle received is a new descriptor. The
 * child never listens or accepts (a raw handle is not polled) and exits at once. Connections a
 * lane accepts are handed to the HTTP server exactly as its own are (`'connection'`).
 *
 * Cost: while the accept queue is empty nothing; when one connection arrives, every lane wakes
 * and the ones that lose the race get EAGAIN (one syscall each).
 */
export class AcceptLanes {
  private constructor(private readonly servers: Server[]) {}

  /** No lanes (cluster workers, where the primary hands connections over, or lanes = 0). */
  static none(): AcceptLanes {
    return new AcceptLanes([]);
  }

  /** Adds `lanes` descriptors for `server`'s listening socket; resolves once they all listen. */
  static async open(server: HttpServer, lanes: number, timeoutMs = 10_000): Promise<AcceptLanes> {
    const handle = (server as unknown as { _handle?: object | null })._handle;
    if (lanes <= 0 || !handle) return AcceptLanes.none();
    const handles = await duplicatedHandles(handle, lanes, timeoutMs);
    const servers = await Promise.all(
      handles.map(
        (h) =>
          new Promise<Server>((resolve, reject) => {
            const lane = createServer(laneOptions(server), (socket: Socket) =>
              server.emit('connection', socket),
            );
            lane.once('error', reject);
            lane.listen(h, () => {
              // From here a lane's error (an accept that fails) is the HTTP server's, as one on its
              // own descriptor would be, instead of the first being swallowed by `reject`.
              lane.off('error', reject);
              lane.on('error', (err) => server.emit('error', err));
              resolve(lane);
            });
          }),
      ),
    );
    return new AcceptLanes(servers);
  }

  get size(): number {
    return this.servers.length;
  }

  /**
   * Stops accepting on every lane (their descriptors close at once) and resolves when every
   * connection a lane accepted has ended. A drain must wait for that as well as for the HTTP
   * server's close: `net.Server` counts a connection on the server that accepted it, so the HTTP
   * server's own close does not wait for a lane's connections (measured: a SIGTERM drain on
   * PostgreSQL exited with 1 of 6 streams' usage rows written). Idle keep-alive connections are
   * the HTTP server's to close (`closeIdleConnections` sees every connection it serves).
   */
  close(): Promise<void> {
    const closing = this.servers.map((lane) => new Promise<void>((resolve) => lane.close(() => resolve())));
    this.servers.length = 0;
    return Promise.all(closing).then(() => undefined);
  }
}

/**
 * The socket options the HTTP server applies to a connection it accepts, for a lane to apply to
 * the ones it accepts: `net.Server` sets them at accept time, not the HTTP layer. TCP_NODELAY
 * above all (an HTTP server's default): without it a stream's small writes wait for the client's
 * delayed ACK, 40 ms (measured: T1's stream time to first token went from +2 to +38 ms at p99).
 */
export function laneOptions(server: HttpServer): ServerOpts {
  // net.Server keeps them as fields; it stores the keep-alive delay in seconds.
  const accepted = server as unknown as {
    noDelay?: boolean;
    keepAlive?: boolean;
    keepAliveInitialDelay?: number;
  };
  return {
    noDelay: accepted.noDelay ?? true,
    keepAlive: accepted.keepAlive ?? false,
    keepAliveInitialDelay: (accepted.keepAliveInitialDelay ?? 0) * 1000,
  };
}

/**
 * The child's whole program: keep the handle, send it back each time the parent asks for one
 * more, leave when told. (One at a time: a handle sent while the previous one is still
 * unacknowledged waits in Node's queue, and leaving then would drop it.)
 */
const ECHO = `
let kept;
process.on('message', (m, handle) => {
  if (handle) kept = handle;
  if (m === 'more') process.send('lane', kept);
  else if (m === 'done') process.disconnect();
});
`;

function duplicatedHandles(handle: object, lanes: number, timeoutMs: number): Promise<object[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', ECHO], {
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      env: { PATH: process.env.PATH ?? '' },
    });
    const got: object[] = [];
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`accept lanes: the helper process did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', (m: unknown, h: object | undefined) => {
      if (m !== 'lane' || !h) return;
      got.push(h);
      child.send(got.length < lanes ? 'more' : 'done');
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', () => {
      clearTimeout(timer);
      if (got.length === lanes) resolve(got);
      else reject(new Error(`accept lanes: got ${got.length} of ${lanes} descriptors`));
    });
    child.send('more', handle as never);
  });
}
