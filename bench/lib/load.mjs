// The load clients: autocannon for the closed-loop scenarios (`<kind>-c<connections>` through a
// door), and a one-connection sequential client with sub-millisecond timing for added latency.
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { cpuSeconds } from './proc.mjs';
import { quantile } from '../stream-load.mjs';

const PROMPT = 'Benchmark prompt: say something short.';

/**
 * A scenario's request. `<kind>-c<n>` is a chat completion (`nonstream` or `stream`) at n
 * connections; a door prefix sends the same call through another door of the router:
 * `messages-` (Anthropic Messages), `responses-` (OpenAI Responses, `store: false`) and
 * `responses-store-` (Responses with its default, `store: true`: the response is kept).
 */
export function scenarioRequest(scenario) {
  const m = /^(?:(messages|responses-store|responses)-)?(nonstream|stream)-c(\d+)$/.exec(scenario);
  if (!m)
    throw new Error(
      `unknown scenario ${scenario}: expected [messages-|responses-|responses-store-]<nonstream|stream>-c<n>`,
    );
  const [, door = 'chat', kind, conns] = m;
  const stream = kind === 'stream' ? { stream: true } : {};
  const model = 'gpt-4o-mini';
  const chat = { model, messages: [{ role: 'user', content: PROMPT }] };
  const requests = {
    chat: { path: '/chat/completions', body: { ...chat, ...stream } },
    messages: { path: '/messages', body: { ...chat, max_tokens: 256, ...stream } },
    responses: { path: '/responses', body: { model, input: PROMPT, store: false, ...stream } },
    'responses-store': { path: '/responses', body: { model, input: PROMPT, ...stream } },
  };
  const { path, body } = requests[door];
  return { door, kind, path, body: JSON.stringify(body), conns: Number(conns), chat: `${kind}-c${conns}` };
}

/** The table columns of {@link cannon}'s rows. */
export const loadColumns = [
  ['scenario', (r) => r.scenario, 'l'],
  ['target', (r) => r.target, 'l'],
  ['req/s', (r) => r.rps],
  ['p50 ms', (r) => r.p50],
  ['p99 ms', (r) => r.p99],
  ['errors', (r) => r.errors],
  ['non-2xx', (r) => r.non2xx],
  ['target CPU %', (r) => r.cpuPct],
  ['CPU µs/req', (r) => r.cpuPerReq],
];

/**
 * One autocannon run of `scenario` against `target` for `duration` seconds (at most 2,000,000
 * requests): throughput, latency (to the last byte), failures, and the target's CPU.
 */
export async function cannon(target, scenario, duration) {
  const { path, body, conns } = scenarioRequest(scenario);
  const cpu0 = cpuSeconds(target.pid, target.tree);
  const result = await autocannon({
    url: `${target.base}${path}`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body,
    connections: conns,
    duration,
    maxOverallRequests: 2_000_000, // with `duration`: whichever comes first
    timeout: 10,
  });
  const cpuS = cpuSeconds(target.pid, target.tree) - cpu0;
  const seconds = result.duration || duration;
  return {
    target: target.name,
    scenario,
    rps: Math.round(result.requests.total / seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    cpuPct: Number.isNaN(cpuS) ? null : Math.round((cpuS / seconds) * 100),
    // CPU time of the target per response (all its threads and workers), in microseconds
    cpuPerReq:
      Number.isNaN(cpuS) || !result.requests.total ? null : Math.round((cpuS * 1e6) / result.requests.total),
  };
}

/** Warm-up: JIT, keep-alive pools, the key cache; `seconds` of chat completions at 10 connections. */
export async function warmUp(target, seconds = 1, stream = false) {
  await autocannon({
    url: `${target.base}/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'warm' }], stream }),
    connections: 10,
    duration: seconds,
  });
}

/**
 * Requests one after another on one kept-alive connection for `seconds` (at most `max`), timed
 * with performance.now(): for a non-streamed completion the time to the whole answer, for a
 * streamed one the time to its first content token (the rest is read and checked). Latencies in ms.
 */
export async function sequential(target, { stream, seconds, max = 10_000 }) {
  const base = new URL(target.base);
  const pool = new Pool(base.origin, { connections: 1, pipelining: 1 });
  const body = JSON.stringify({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: PROMPT }],
    ...(stream ? { stream: true } : {}),
  });
  const latencies = [];
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  try {
    while (performance.now() < deadline && latencies.length + errors < max) {
      const t0 = performance.now();
      let first = NaN;
      try {
        const res = await pool.request({
          path: `${base.pathname}/chat/completions`,
          method: 'POST',
          headers: { 'content-type': 'application/json', ...target.headers },
          body,
          headersTimeout: 10_000,
          bodyTimeout: 10_000,
        });
        let text = '';
        for await (const piece of res.body) {
          text += piece;
          if (stream && Number.isNaN(first) && /"content":"[^"]/.test(text)) first = performance.now();
        }
        const ok =
          res.statusCode === 200 && (stream ? text.includes('[DONE]') && !Number.isNaN(first) : true);
        if (!ok) errors++;
        else latencies.push((stream ? first : performance.now()) - t0);
      } catch {
        errors++;
      }
    }
  } finally {
    await pool.close();
  }
  return {
    target: target.name,
    kind: stream ? 'stream TTFT' : 'nonstream',
    requests: latencies.length,
    errors,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    samples: latencies,
  };
}
