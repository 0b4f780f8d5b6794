#!/usr/bin/env node
// A fast OpenAI-compatible mock upstream for benchmarks (loopback only, no dependencies):
// POST /v1/chat/completions as JSON or SSE (CHUNKS content chunks, then a usage chunk and [DONE]).
// The stand-in for ../shared/bench/mock-upstream.mjs when that is absent; it takes the same flags:
//   node bench/mock-upstream.mjs --port=9100 [--latency=MS] [--chunks=N] [--chunk-delay=MS]
// --latency delays the response headers; --chunk-delay spaces the streamed content chunks.
import { Buffer } from 'node:buffer';
import http from 'node:http';

const flags = Object.fromEntries(
  process.argv
    .slice(2)
    .map((a) => /^--([a-z-]+)=(.*)$/.exec(a))
    .filter(Boolean)
    .map((m) => [m[1], Number(m[2])]),
);
const port = flags.port || Number(process.argv[2]) || Number(process.env.MOCK_PORT || 9100);
const LATENCY_MS = flags.latency || 0;
const CHUNK_DELAY_MS = flags['chunk-delay'] || 0;
const CHUNKS = Math.min(Math.max(flags.chunks || 16, 1), 10_000);
const WORDS = Array.from({ length: CHUNKS }, (_, i) => `word${i} `);
const TEXT = WORDS.join('');
let seq = 0;

function completion(model) {
  return JSON.stringify({
    id: `chatcmpl-mock-${++seq}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: TEXT }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 12, completion_tokens: CHUNKS, total_tokens: 12 + CHUNKS },
  });
}

function stream(res, model) {
  const id = `chatcmpl-mock-${++seq}`;
  const created = Math.floor(Date.now() / 1000);
  const frame = (choices, usage) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices, ...(usage ? { usage } : {}) })}\n\n`;
  const parts = [frame([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }])];
  for (const w of WORDS) parts.push(frame([{ index: 0, delta: { content: w }, finish_reason: null }]));
  const tail =
    frame([{ index: 0, delta: {}, finish_reason: 'stop' }]) +
    frame([], { prompt_tokens: 12, completion_tokens: CHUNKS, total_tokens: 12 + CHUNKS }) +
    'data: [DONE]\n\n';
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  if (!CHUNK_DELAY_MS) return res.end(parts.join('') + tail);
  // The role chunk and the first content chunk at once, then one content chunk per delay.
  res.write(parts[0] + parts[1]);
  let i = 2;
  const next = () => {
    if (res.destroyed) return;
    if (i < parts.length) {
      res.write(parts[i++]);
      setTimeout(next, CHUNK_DELAY_MS);
    } else res.end(tail);
  };
  setTimeout(next, CHUNK_DELAY_MS);
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end('{"ok":true}');
  }
  const bufs = [];
  req.on('data', (d) => bufs.push(d));
  req.on('end', () => {
    if (req.method !== 'POST' || !req.url.startsWith('/v1/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end('{"error":{"message":"not found","type":"invalid_request_error"}}');
    }
    let body = {};
    try {
      body = JSON.parse(Buffer.concat(bufs).toString('utf8'));
    } catch {
      /* answered anyway: a benchmark mock */
    }
    const model = body.model || 'gpt-4o-mini';
    const answer = () => {
      if (body.stream) return stream(res, model);
      const payload = completion(model);
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(payload),
      });
      res.end(payload);
    };
    if (LATENCY_MS) setTimeout(answer, LATENCY_MS);
    else answer();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`mock upstream on http://127.0.0.1:${port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
