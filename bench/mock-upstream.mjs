#!/usr/bin/env node
// A fast OpenAI-compatible mock upstream for benchmarks (loopback only, no dependencies):
// POST /v1/chat/completions as JSON or SSE (16 chunks, then a usage chunk and [DONE]).
import { Buffer } from 'node:buffer';
import http from 'node:http';

const port = Number(process.argv[2] || process.env.MOCK_PORT || 9100);
const CHUNKS = 16;
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
  let out = frame([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
  for (const w of WORDS) out += frame([{ index: 0, delta: { content: w }, finish_reason: null }]);
  out += frame([{ index: 0, delta: {}, finish_reason: 'stop' }]);
  out += frame([], { prompt_tokens: 12, completion_tokens: CHUNKS, total_tokens: 12 + CHUNKS });
  out += 'data: [DONE]\n\n';
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.end(out);
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
    if (body.stream) return stream(res, model);
    const payload = completion(model);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`mock upstream on http://127.0.0.1:${port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
