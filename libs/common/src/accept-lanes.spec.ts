import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { AcceptLanes, laneOptions } from './accept-lanes';

/** Blocks the event loop for `ms` (what a saturated loop does to the listening socket). */
function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

async function listening(): Promise<Server> {
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const portOf = (server: Server) => (server.address() as AddressInfo).port;

/**
 * Opens `count` connections while the loop is blocked, so that they all wait in the accept queue
 * together, then counts how many the server accepts in each turn of the loop.
 */
async function acceptedPerTurn(server: Server, count: number): Promise<number[]> {
  let turn = 0;
  let ticking = true;
  const tick = () => {
    turn++;
    if (ticking) setImmediate(tick);
  };
  const perTurn = new Map<number, number>();
  const all = new Promise<void>((resolve) => {
    let seen = 0;
    server.on('connection', () => {
      perTurn.set(turn, (perTurn.get(turn) ?? 0) + 1);
      if (++seen === count) resolve();
    });
  });
  const clients: Socket[] = [];
  for (let i = 0; i < count; i++) clients.push(connect(portOf(server), '127.0.0.1'));
  await new Promise((resolve) => process.nextTick(resolve)); // net.connect calls connect() on a tick
  busy(100); // the kernel completes every handshake; nothing is accepted while the loop is blocked
  setImmediate(tick);
  await all;
  ticking = false;
  for (const c of clients) c.destroy();
  return [...perTurn.values()];
}

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', path: '/', agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('AcceptLanes', () => {
  const servers: Server[] = [];
  const lanes: AcceptLanes[] = [];
  afterEach(async () => {
    for (const l of lanes.splice(0)) await l.close();
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  });

  it('without lanes, a blocked-then-free loop accepts one queued connection per turn (libuv since 1.45)', async () => {
    const server = await listening();
    servers.push(server);
    const perTurn = await acceptedPerTurn(server, 6);
    expect(perTurn).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('with 8 lanes, the first turn accepts up to 9 queued connections', async () => {
    const server = await listening();
    servers.push(server);
    const l = await AcceptLanes.open(server, 8);
    lanes.push(l);
    expect(l.size).toBe(8);
    const perTurn = await acceptedPerTurn(server, 9);
    expect(perTurn[0]).toBe(9);
  });

  it('connections accepted on a lane are served by the HTTP server', async () => {
    const server = await listening();
    servers.push(server);
    lanes.push(await AcceptLanes.open(server, 4));
    const bodies = await Promise.all(Array.from({ length: 20 }, () => get(portOf(server))));
    expect(bodies).toEqual(Array(20).fill('ok'));
  });

  it('once the lanes and the server are closed, the port refuses connections', async () => {
    const server = await listening();
    const port = portOf(server);
    const l = await AcceptLanes.open(server, 4);
    await l.close();
    await new Promise((r) => server.close(r));
    const refused = await new Promise<string>((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.on('connect', () => {
        c.destroy();
        resolve('connected');
      });
      c.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });

  it('close() resolves only once the connections a lane accepted have ended (a drain waits for them)', async () => {
    const server = await listening();
    const port = portOf(server);
    const l = await AcceptLanes.open(server, 2);
    // The HTTP server's own descriptor closes (and its close does not wait: it accepted nothing);
    // the socket still listens through the lanes, so the next connection is a lane's.
    await new Promise((r) => server.close(r));
    const served = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const client = connect(port, '127.0.0.1');
    const socket = await served;
    let closed = false;
    const closing = l.close().then(() => {
      closed = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(false);
    socket.destroy();
    client.destroy();
    await closing;
    expect(closed).toBe(true);
  });

  it("gives a lane's connections the HTTP server's socket options: TCP_NODELAY (its default) and keep-alive", () => {
    expect(laneOptions(createServer())).toEqual({
      noDelay: true,
      keepAlive: false,
      keepAliveInitialDelay: 0,
    });
    expect(
      laneOptions(createServer({ noDelay: false, keepAlive: true, keepAliveInitialDelay: 5000 })),
    ).toEqual({
      noDelay: false,
      keepAlive: true,
      keepAliveInitialDelay: 5000,
    });
  });

  it('opens no lanes when asked for none or when the server does not listen', async () => {
    const server = await listening();
    servers.push(server);
    expect((await AcceptLanes.open(server, 0)).size).toBe(0);
    expect((await AcceptLanes.open(createServer(), 4)).size).toBe(0);
  });
});
