import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ERROR_BODY, respond, sendJson, sleep } from './fake-responder';
import type {
  BehaviourSource,
  FakeBehaviour,
  FakeOperation,
  FakeUpstream,
  FakeUpstreamOptions,
  FakeVendor,
  JsonValue,
  RecordedRequest,
} from './fake-upstream.types';
import * as wire from './fake-wire';

export * from './fake-upstream.types';

interface Route {
  vendor: FakeVendor;
  operation: FakeOperation;
  model?: string;
}

const GOOGLE_RE =
  /^\/(v1|v1beta)\/models\/([^/:]+):(generateContent|streamGenerateContent|embedContent|batchEmbedContents)$/;

function route(method: string, path: string, body: JsonValue): Route | undefined {
  if (method === 'GET' && (path === '/v1/models' || path === '/models'))
    return { vendor: 'openai', operation: 'models' };
  if (method !== 'POST') return undefined;
  if (path === '/v1/chat/completions' || path === '/chat/completions') {
    return { vendor: 'openai', operation: body?.stream ? 'stream' : 'chat' };
  }
  if (path === '/v1/embeddings' || path === '/embeddings') return { vendor: 'openai', operation: 'embed' };
  if (path === '/v1/messages') return { vendor: 'anthropic', operation: body?.stream ? 'stream' : 'chat' };
  const g = GOOGLE_RE.exec(path);
  if (!g) return undefined;
  const op =
    g[3] === 'streamGenerateContent'
      ? 'stream'
      : g[3].endsWith('mbedContent') || g[3] === 'batchEmbedContents'
        ? 'embed'
        : 'chat';
  return { vendor: 'google', operation: op, model: decodeURIComponent(g[2]) };
}

function hasAuth(vendor: FakeVendor, req: IncomingMessage): boolean {
  if (vendor === 'openai') return /^Bearer \S+/.test(req.headers.authorization ?? '');
  if (vendor === 'anthropic') return !!req.headers['x-api-key'] && !!req.headers['anthropic-version'];
  return !!req.headers['x-goog-api-key'] || /[?&]key=/.test(req.url ?? '');
}

/** Starts one fake upstream on 127.0.0.1 that speaks OpenAI, Anthropic and Gemini (JSON and SSE). */
export async function startFakeUpstream(opts: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
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
    const r = route(req.method ?? 'GET', path, body);
    if (!r) return sendJson(res, 404, wire.openaiError(404));
    const model = r.model ?? (typeof body?.model === 'string' ? body.model : 'fake-model');
    const recorded: RecordedRequest = {
      vendor: r.vendor,
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
    if (opts.requireAuth !== false && r.operation !== 'models' && !hasAuth(r.vendor, req)) {
      return sendJson(res, 401, ERROR_BODY[r.vendor](401));
    }
    if (r.vendor === 'google' && r.operation === 'stream' && !/[?&]alt=sse/.test(url)) {
      return sendJson(res, 400, wire.googleError(400));
    }
    const b = queue.shift() ?? (typeof fallback === 'function' ? fallback(recorded) : fallback) ?? {};
    if (b.latencyMs) await sleep(b.latencyMs);
    if (res.destroyed) return;
    await respond(res, recorded, b, raw.length, ++seq);
  }

  const address = await new Promise<AddressInfo>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(server.address() as AddressInfo)),
  );
  const base = `http://127.0.0.1:${address.port}`;
  return {
    url: base,
    openaiBaseUrl: `${base}/v1`,
    anthropicBaseUrl: base,
    googleBaseUrl: base,
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
