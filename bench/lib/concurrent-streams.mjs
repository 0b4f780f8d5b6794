// Issue 19 T3, the seed's concurrency: STREAMS (1000) concurrent streamed completions on one
// router process, starts spread over 1 s, each 100 content chunks 50 ms apart from the mock.
// Per router: zero errors, every stream complete and intact (the same 100-chunk text as straight
// from the mock), added TTFT p99 ≤ 25 ms and added inter-chunk gap p99 ≤ 5 ms over the mock
// itself, peak RSS ≤ 512 MB, CPU reported. Portkey runs the same load when it is set up.
import { backendLabel } from './added-latency.mjs';
import { warmUp } from './load.mjs';
import { cpuSeconds, peakRssMb } from './proc.mjs';
import { outcome, round, signed, table } from './report.mjs';
import { streamLoad } from '../stream-load.mjs';

const LIMIT_TTFT = 25;
const LIMIT_GAP = 5;
const LIMIT_RSS_MB = 512;

const BODY = JSON.stringify({
  model: 'gpt-4o-mini',
  stream: true,
  messages: [{ role: 'user', content: 'Benchmark prompt: stream a long answer.' }],
});

/** One target: a 20-stream warm-up, then the load; CPU over the load, VmHWM over the process's life. */
async function measure(t, streams, expectText) {
  const url = `${t.base}/chat/completions`;
  await streamLoad({ url, headers: t.headers, body: BODY, streams: 20, spreadMs: 200, expectText });
  const cpu0 = cpuSeconds(t.pid);
  const r = await streamLoad({ url, headers: t.headers, body: BODY, streams, expectText });
  return { target: t.name, ...r, cpuS: round(cpuSeconds(t.pid) - cpu0, 2), peakRssMb: peakRssMb(t.pid) };
}

/**
 * `direct` is the mock (first: its text is the reference and its latencies the floor), then the
 * routers (started for this phase only, so VmHWM covers their start, the warm-up and this load)
 * and Portkey.
 */
export async function concurrentStreams({ direct, nul, routers, portkey, streams, metrics }) {
  const rows = [await measure(direct, streams)];
  const expected = rows[0].text;
  // The bare Node proxy: what one extra hop that reads and writes every chunk adds on this
  // machine (a reference beside the verdicts, not one of them).
  if (nul) rows.push(await measure(nul, streams, expected));
  // JIT, pools and caches: the routers were started for this phase.
  for (const t of routers) await warmUp(t, 2);
  for (const t of [...routers, portkey].filter(Boolean)) rows.push(await measure(t, streams, expected));
  const d = rows[0];
  for (const r of rows) {
    r.addedTtftP99 = round(r.ttftP99 - d.ttftP99, 1);
    r.addedGapP99 = round(r.gapP99 - d.gapP99, 1);
    const key = `T3.${r.target}`;
    metrics.lower(`${key}.errors`, r.errors, 'count');
    metrics.lower(`${key}.ttft_p99`, round(r.ttftP99, 1), 'ms');
    metrics.lower(`${key}.gap_p99`, round(r.gapP99, 1), 'ms');
    if (r !== d) {
      metrics.lower(`${key}.added_ttft_p99`, r.addedTtftP99, 'ms');
      metrics.lower(`${key}.added_gap_p99`, r.addedGapP99, 'ms');
    }
    metrics.lower(`${key}.peak_rss`, r.peakRssMb, 'MB');
    metrics.lower(`${key}.cpu`, r.cpuS, 's');
  }
  const f = (n) => round(n, 1);
  table(
    `T3: ${streams} concurrent streams, 100 chunks 50 ms apart, starts spread over 1 s ` +
      '(peak RSS = VmHWM over the process life; the routers were started for this phase)',
    [
      ['target', (r) => r.target, 'l'],
      ['errors', (r) => (r.errors ? `${r.errors} (${r.firstErrors.join('; ')})` : 0)],
      ['intact', (r) => `${r.intact}/${r.streams}`],
      ['chunks min–max', (r) => `${r.minChunks}–${r.maxChunks}`],
      ['TTFT p50 ms', (r) => f(r.ttftP50)],
      ['TTFT p99 ms', (r) => f(r.ttftP99)],
      ['added TTFT p99', (r) => r.addedTtftP99],
      ['gap p50 ms', (r) => f(r.gapP50)],
      ['gap p99 ms', (r) => f(r.gapP99)],
      ['added gap p99', (r) => r.addedGapP99],
      ['peak RSS MB', (r) => r.peakRssMb],
      ['CPU s', (r) => r.cpuS],
    ],
    rows,
  );
  return routers.map((t) => verdict(rows.find((r) => r.target === t.name)));
}

function verdict(r) {
  const pass =
    r.errors === 0 &&
    r.intact === r.streams &&
    r.addedTtftP99 <= LIMIT_TTFT &&
    r.addedGapP99 <= LIMIT_GAP &&
    r.peakRssMb <= LIMIT_RSS_MB;
  return outcome(
    'T3',
    `${r.streams} streams (${backendLabel(r.target)})`,
    pass,
    `${r.errors} errors, ${r.intact}/${r.streams} intact, TTFT p99 ${signed(r.addedTtftP99, 1)} ms (limit ${LIMIT_TTFT}), ` +
      `gap p99 ${signed(r.addedGapP99, 1)} ms (limit ${LIMIT_GAP}), peak RSS ${r.peakRssMb} MB (limit ${LIMIT_RSS_MB}), CPU ${r.cpuS} s`,
  );
}
