import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAgent, fetchJsonOnce, UpstreamCall } from './http';
import { ProviderError } from './provider-error';

/** A large upstream body is encoded in loop slices and paced onto the socket (issue 15): same bytes, a Content-Length. */
describe('upstream request bodies', () => {
  let server: Server;
  let base: string;
  const received: Array<{ headers: IncomingHttpHeaders; body: Buffer }> = [];
  const agent = createAgent();
  const mapError = (status: number) =>
    new ProviderError({
      provider: 't',
      status,
      retryable: false,
      code: 'upstream_server_error',
      message: 'x',
    });
  const ctx = () => ({ signal: new AbortController().signal, timeoutMs: 10_000 });

  beforeAll(async () => {
    server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(parts) });
        res.setHeader('content-type', 'application/json');
        res.end('{"ok":true}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await agent.close();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => (received.length = 0));

  const large = {
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Grüße 😀 "quoted" \\ line\n'.repeat(40_000) }],
  };

  it('a large body (fetchJson) arrives byte for byte with a Content-Length, not chunked', async () => {
    const answer = await fetchJsonOnce(
      't',
      agent,
      ctx(),
      { url: `${base}/v1/x`, headers: {}, body: large },
      mapError,
    );
    expect(answer).toEqual({ ok: true });
    const [got] = received;
    expect(got.body.equals(Buffer.from(JSON.stringify(large)))).toBe(true);
    expect(got.headers['content-length']).toBe(String(got.body.length));
    expect(got.headers['transfer-encoding']).toBeUndefined();
    expect(got.headers['content-type']).toBe('application/json');
  });

  it('a large body on the streaming path (send) too', async () => {
    const call = new UpstreamCall('t', agent, ctx());
    try {
      const res = await call.send({ url: `${base}/v1/x`, headers: {}, body: large }, mapError);
      expect(await res.body.json()).toEqual({ ok: true });
    } finally {
      call.finish();
    }
    expect(received[0].body.equals(Buffer.from(JSON.stringify(large)))).toBe(true);
    expect(received[0].headers['content-length']).toBe(String(received[0].body.length));
  });

  it('a small body is sent as one string, unchanged', async () => {
    const small = { model: 'm', messages: [{ role: 'user', content: 'hi 😀' }] };
    await fetchJsonOnce('t', agent, ctx(), { url: `${base}/v1/x`, headers: {}, body: small }, mapError);
    expect(received[0].body.toString('utf8')).toBe(JSON.stringify(small));
    expect(received[0].headers['content-length']).toBe(String(Buffer.byteLength(JSON.stringify(small))));
  });
});
