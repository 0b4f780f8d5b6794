import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProviderDefinition } from '../provider-definition';
import { PROVIDERS } from '../providers';
import { respond, sendJson, sleep } from './fake-responder';
import type {
  BehaviourSource,
  FakeBehaviour,
  FakeUpstream,
  FakeUpstreamOptions,
  JsonValue,
  RecordedRequest,
} from './fake-upstream.types';
import type { FakeRoute, FakeVendorWire } from './fake-vendor-wire';

export * from './fake-upstream.types';

/** The fakes of the providers that have one, in list order (the first answers unknown paths). */
async function loadWires(providers: readonly ProviderDefinition[]): Promise<FakeVendorWire[]> {
  return Promise.all(providers.flatMap((p) => (p.fakeUpstream ? [p.fakeUpstream()] : [])));
}

function route(
  wires: FakeVendorWire[],
  method: string,
  path: string,
  body: JsonValue,
): { wire: FakeVendorWire; route: FakeRoute } | undefined {
  for (const wire of wires) {
    const r = wire.route(method, path, body);
    if (r) return { wire, route: r };
  }
  return undefined;
}

/**
 * Starts one fake upstream on 127.0.0.1 that speaks the wire format (JSON and SSE) of every
 * provider with a fake: OpenAI, Anthropic and Gemini.
 */
export async function startFakeUpstream(opts: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const wires = await loadWires(opts.providers ?? PROVIDERS);
  if (!wires.length) throw new Error('none of the given providers has a fake upstream');
  const requests: RecordedRequest[] = [];
  const queue: FakeBehaviour[] = [];
  let fallback: BehaviourSource = opts.behaviour ?? {};
  let seq = 0;

  const server = http.createServer((req, res) => {
    const bufs: Buffer[] = [];
    req.on('data', (d: Buffer) => bufs.push(d));
    req.on('end', () => {
      const raw = Buffer.concat(bufs).toString('utf8');
      handle(req, res, raw).catch(() => res.destroy());
    });
  });
  server.keepAliveTimeout = 5_000;

  async function handle(req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> {
    const url = req.url ?? '/';
    const path = url.split('?')[0];
    let body: JsonValue;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = undefined;
    }
    const found = route(wires, req.method ?? 'GET', path, body);
    if (!found) return sendJson(res, 404, wires[0].error(404));
    const { wire, route: r } = found;
    const model = r.model ?? (typeof body?.model === 'string' ? body.model : 'fake-model');
    const recorded: RecordedRequest = {
      vendor: wire.vendor,
      operation: r.operation,
      method: req.method ?? '',
      url,
      headers: req.headers,
      body,
      model,
      remotePort: req.socket.remotePort ?? 0,
      closedEarly: false,
    };
    res.on('close', () => {
      if (!res.writableFinished) recorded.closedEarly = true;
    });
    requests.push(recorded);
    if (opts.requireAuth !== false && r.operation !== 'models' && !wire.hasAuth(req.headers, url)) {
      return sendJson(res, 401, wire.error(401));
    }
    const refused = wire.refuse?.(recorded);
    if (refused) return sendJson(res, refused, wire.error(refused));
    const b = queue.shift() ?? (typeof fallback === 'function' ? fallback(recorded) : fallback) ?? {};
    if (b.latencyMs) await sleep(b.latencyMs);
    if (res.destroyed) return;
    await respond(res, recorded, wire, b, raw.length, ++seq);
  }

  const address = await new Promise<AddressInfo>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(server.address() as AddressInfo)),
  );
  const base = `http://127.0.0.1:${address.port}`;
  const baseUrls = Object.fromEntries(wires.map((w) => [w.vendor, `${base}${w.basePath}`]));
  return {
    url: base,
    baseUrls,
    openaiBaseUrl: baseUrls.openai ?? base,
    anthropicBaseUrl: baseUrls.anthropic ?? base,
    googleBaseUrl: baseUrls.google ?? base,
    requests,
    setBehaviour: (b) => {
      fallback = b;
    },
    enqueue: (...b) => {
      queue.push(...b);
    },
    reset: () => {
      requests.length = 0;
      queue.length = 0;
      seq = 0;
      fallback = opts.behaviour ?? {};
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
