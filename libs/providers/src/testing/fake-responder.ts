import type { ServerResponse } from 'node:http';
import { schemaAnswer } from './fake-schema';
import type { FakeBehaviour, FakeFault, RecordedRequest } from './fake-upstream.types';
import type { FakeVendorWire } from './fake-vendor-wire';
import type { FakeReply } from './fake-wire.common';

/** Writes the fake reply for one request: the vendor's JSON or SSE, with the injected fault. */

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** JSON text streamed in 16-character pieces, so clients meet partial JSON as they would for real. */
function jsonPieces(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += 16) out.push(text.slice(i, i + 16));
  return out;
}

/** `followSchemas`: the request's tools and output schema decide the answer, as a model's would. */
function followSchemas(
  req: RecordedRequest,
  wire: FakeVendorWire,
  b: FakeBehaviour,
): FakeBehaviour & { json?: boolean } {
  if (!b.followSchemas || b.text !== undefined || b.toolCalls) return b;
  const answer = schemaAnswer(wire.intent(req.body));
  if (!answer) return b;
  return 'toolCall' in answer
    ? { ...b, toolCalls: [answer.toolCall] }
    : { ...b, text: answer.text, json: true };
}

function reply(
  req: RecordedRequest,
  wire: FakeVendorWire,
  given: FakeBehaviour,
  bodyLen: number,
  seq: number,
): FakeReply {
  const b = followSchemas(req, wire, given);
  const text = b.text ?? 'Hello from the fake upstream.';
  const pieces = 'json' in b && b.json ? jsonPieces(text) : text.split(/(?=\s)/).filter((p) => p.length > 0);
  const usage =
    b.usage === undefined
      ? { prompt: Math.max(1, Math.ceil(bodyLen / 4)), completion: pieces.length }
      : b.usage;
  return {
    id: `${wire.idPrefix}${seq}`,
    model: req.model,
    pieces,
    toolCalls: (b.toolCalls ?? []).map((c, i) => ({
      id: c.id ?? `call_fake${seq}_${i}`,
      name: c.name,
      arguments: c.arguments,
    })),
    finish: b.finish ?? 'stop',
    usage,
    thinking:
      req.vendor === 'anthropic' && b.thinking && req.body?.thinking?.type === 'enabled' ? b.thinking : null,
  };
}

export async function respond(
  res: ServerResponse,
  req: RecordedRequest,
  wire: FakeVendorWire,
  b: FakeBehaviour,
  bodyLen: number,
  seq: number,
): Promise<void> {
  const fault = b.fault;
  if (fault?.type === 'status') {
    const headers: Record<string, string> = fault.retryAfter ? { 'retry-after': fault.retryAfter } : {};
    return sendJson(res, fault.status, fault.body ?? wire.error(fault.status), headers);
  }
  if (fault?.type === 'stall-before-headers') return; // never answers; closed by the client or close()
  if (fault?.type === 'reset') {
    res.socket?.destroy();
    return;
  }
  if (req.operation === 'models') return sendJson(res, 200, wire.models?.());
  if (req.operation === 'embed') return sendEmbeddings(res, req, wire, b, fault);
  const r = reply(req, wire, b, bodyLen, seq);
  if (req.operation === 'stream') return streamEvents(res, req, wire, r, b);
  if (fault?.type === 'malformed-json' || fault?.type === 'cut-stream') {
    return sendRaw(res, '{"id":"broken","choices":[{"index":0,"message":{"role":"assistant","content":"Hel');
  }
  if (fault?.type === 'stall-mid-stream' || fault?.type === 'reset-mid-stream') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"id":"partial",');
    if (fault.type === 'reset-mid-stream') res.socket?.destroy();
    return;
  }
  sendJson(res, 200, wire.completion(r, nowSeconds()));
}

function sendRaw(res: ServerResponse, text: string): void {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

function sendEmbeddings(
  res: ServerResponse,
  req: RecordedRequest,
  wire: FakeVendorWire,
  b: FakeBehaviour,
  fault: FakeFault | undefined,
): void {
  if (fault?.type === 'malformed-json') return sendRaw(res, '{"object":"list","data":[{"embedding":[0.1,');
  const dims = b.embeddingDims ?? req.body?.dimensions ?? req.body?.outputDimensionality ?? 8;
  sendJson(res, 200, wire.embeddings?.(req, dims));
}

async function streamEvents(
  res: ServerResponse,
  req: RecordedRequest,
  wire: FakeVendorWire,
  r: FakeReply,
  b: FakeBehaviour,
): Promise<void> {
  let events = wire.stream(r, req, nowSeconds());
  const fault = b.fault;
  const cutAt = fault && 'afterChunks' in fault ? (fault.afterChunks ?? 2) : 2;
  if (fault?.type === 'malformed-json')
    events = [...events.slice(0, cutAt), 'data: {"choices": [{"delta": \n\n'];
  else if (fault?.type === 'error-event') events = [...events.slice(0, cutAt), wire.streamError()];
  else if (fault) events = events.slice(0, cutAt);
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  for (const [i, ev] of events.entries()) {
    if (res.destroyed) return;
    if (i > 0 && b.chunkDelayMs) await sleep(b.chunkDelayMs);
    res.write(ev);
  }
  if (fault?.type === 'stall-mid-stream') return; // headers and some events sent, then silence
  if (fault?.type === 'reset-mid-stream') {
    await sleep(10);
    res.socket?.destroy();
    return;
  }
  res.end();
}
