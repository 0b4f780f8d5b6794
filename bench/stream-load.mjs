// A load client for streamed chat completions that measures what a user of each stream feels:
// time to the first content token (TTFT) and the gaps between content chunks, per stream, with
// the streams' starts spread evenly over a window (clients arrive; they do not all connect in the
// same millisecond). Loopback only; bounded by the number of streams and a per-stream timeout.
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';

/** The q-quantile (0..1) of a list of numbers, nearest rank; NaN for an empty list. */
export function quantile(values, q) {
  if (!values.length) return NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** A chat completion chunk's non-empty delta content (still JSON-escaped). */
const CONTENT = /"content":"((?:[^"\\]|\\.)+)"/;

/**
 * One stream: sends the request, reads SSE events, records the time of each content chunk.
 * Resolves (never rejects) with what happened, so one failure does not hide the others.
 */
async function oneStream({ url, headers, body, dispatcher, timeoutMs }) {
  const started = performance.now();
  const out = { ok: false, status: 0, ttftMs: NaN, gapsMs: [], chunks: 0, text: '', done: false, error: '' };
  try {
    const res = await request(url, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json', ...headers },
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    out.status = res.statusCode;
    let buffered = '';
    let last = NaN;
    for await (const piece of res.body) {
      buffered += piece.toString('utf8');
      let end;
      while ((end = buffered.indexOf('\n\n')) !== -1) {
        const event = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const data = event.startsWith('data: ') ? event.slice(6) : '';
        if (data === '[DONE]') {
          out.done = true;
          continue;
        }
        // Content chunks only (the role chunk carries "content":"", usage chunks none).
        const content = CONTENT.exec(data);
        if (!content) continue;
        const now = performance.now();
        out.text += content[1];
        if (out.chunks === 0) out.ttftMs = now - started;
        else out.gapsMs.push(now - last);
        last = now;
        out.chunks++;
      }
    }
    out.ok = out.status === 200 && out.done;
  } catch (err) {
    out.error = err.code ?? err.message;
  }
  return out;
}

/**
 * Runs `streams` streamed requests against `url`, starting them evenly over `spreadMs`, and
 * summarises: errors, TTFT and inter-chunk gap quantiles (ms), and how many streams arrived
 * intact: status 200, ended by [DONE], and carrying exactly `expectText` (by default the text most
 * streams of this run carried, which is returned as `text`).
 */
export async function streamLoad({
  url,
  headers = {},
  body,
  streams,
  spreadMs = 1000,
  timeoutMs = 60_000,
  expectText,
}) {
  const dispatcher = new Agent({ connections: streams + 16, connect: { timeout: timeoutMs } });
  const t0 = performance.now();
  try {
    const results = await Promise.all(
      Array.from({ length: streams }, async (_, i) => {
        const at = (i * spreadMs) / streams;
        const wait = t0 + at - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        return oneStream({ url, headers, body, dispatcher, timeoutMs });
      }),
    );
    const ttft = results.filter((r) => r.chunks > 0).map((r) => r.ttftMs);
    const gaps = results.flatMap((r) => r.gapsMs);
    const chunks = results.map((r) => r.chunks);
    const text = expectText ?? mostCommon(results.filter((r) => r.ok).map((r) => r.text));
    return {
      streams,
      errors: results.filter((r) => !r.ok).length,
      firstErrors: [
        ...new Set(results.filter((r) => !r.ok).map((r) => r.error || `status ${r.status}`)),
      ].slice(0, 3),
      minChunks: Math.min(...chunks),
      maxChunks: Math.max(...chunks),
      intact: results.filter((r) => r.ok && r.text === text).length,
      text,
      ttftP50: quantile(ttft, 0.5),
      ttftP99: quantile(ttft, 0.99),
      gapP50: quantile(gaps, 0.5),
      gapP99: quantile(gaps, 0.99),
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await dispatcher.close();
  }
}

function mostCommon(values) {
  const counts = new Map();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = '';
  let n = 0;
  for (const [v, c] of counts) if (c > n) [best, n] = [v, c];
  return best;
}
