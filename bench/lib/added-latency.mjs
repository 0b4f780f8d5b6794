// Issue 19 T1: what the router adds to one call on an idle machine. One connection, requests one
// after another, the mock answering after 20 ms; the bare Node proxy of the same run is the
// floor (one extra hop). Non-streamed calls to the last byte, streamed calls to the first
// content token. Limits: router p50 − null p50 ≤ 0.3 ms, p99 − null p99 ≤ 1.0 ms.
import { quantile } from '../stream-load.mjs';
import { sequential, warmUp } from './load.mjs';
import { outcome, round, signed, table } from './report.mjs';

const LIMIT_P50 = 0.3;
const LIMIT_P99 = 1.0;

/**
 * Measures `targets` (the null proxy first, then the routers) in `rounds` interleaved rounds of
 * `seconds / rounds` per target and kind, the order rotating, and pools each one's samples.
 */
export async function addedLatency({ reference, routers, seconds, rounds = 2, metrics }) {
  const targets = [reference, ...routers];
  for (const t of targets) await warmUp(t, t.name.startsWith('router') ? 2 : 1);
  const rows = [];
  for (const stream of [false, true]) {
    const samples = new Map(targets.map((t) => [t.name, { samples: [], errors: 0 }]));
    for (let round = 0; round < rounds; round++) {
      for (let j = 0; j < targets.length; j++) {
        const t = targets[(round + j) % targets.length];
        const r = await sequential(t, { stream, seconds: seconds / rounds });
        samples.get(t.name).samples.push(...r.samples);
        samples.get(t.name).errors += r.errors;
      }
    }
    for (const t of targets) {
      const s = samples.get(t.name);
      rows.push({
        target: t.name,
        kind: stream ? 'stream TTFT' : 'nonstream',
        requests: s.samples.length,
        errors: s.errors,
        p50: round(quantile(s.samples, 0.5), 3),
        p99: round(quantile(s.samples, 0.99), 3),
      });
    }
  }
  for (const r of rows) {
    const ref = rows.find((x) => x.target === reference.name && x.kind === r.kind);
    r.addedP50 = round(r.p50 - ref.p50, 3);
    r.addedP99 = round(r.p99 - ref.p99, 3);
  }
  table(
    `T1: one connection, mock answering after 20 ms, ${seconds} s per target and kind (${rounds} rounds)`,
    [
      ['target', (r) => r.target, 'l'],
      ['kind', (r) => r.kind, 'l'],
      ['requests', (r) => r.requests],
      ['errors', (r) => r.errors],
      ['p50 ms', (r) => r.p50],
      ['p99 ms', (r) => r.p99],
      ['added p50 ms', (r) => (r.target === reference.name ? '' : r.addedP50)],
      ['added p99 ms', (r) => (r.target === reference.name ? '' : r.addedP99)],
    ],
    rows,
  );
  for (const r of rows) {
    const key = `T1.${r.target}.${r.kind === 'nonstream' ? 'nonstream' : 'stream_ttft'}`;
    metrics.lower(`${key}.p50`, r.p50, 'ms');
    metrics.lower(`${key}.p99`, r.p99, 'ms');
    if (r.target !== reference.name) {
      metrics.lower(`${key}.added_p50`, r.addedP50, 'ms');
      metrics.lower(`${key}.added_p99`, r.addedP99, 'ms');
    }
  }
  return routers.map((t) => verdict(t.name, rows));
}

function verdict(name, rows) {
  const [plain, stream] = ['nonstream', 'stream TTFT'].map((k) =>
    rows.find((r) => r.target === name && r.kind === k),
  );
  const ok = (r) => !r.errors && r.requests > 0 && r.addedP50 <= LIMIT_P50 && r.addedP99 <= LIMIT_P99;
  const errors = plain.errors + stream.errors;
  return outcome(
    'T1',
    `added latency (${backendLabel(name)})`,
    ok(plain) && ok(stream),
    `${name} ${signed(plain.addedP50)} ms p50 / ${signed(plain.addedP99)} ms p99 over null; stream TTFT ` +
      `${signed(stream.addedP50)} / ${signed(stream.addedP99)} ms (limits +${LIMIT_P50} / +${LIMIT_P99})` +
      (errors ? `; ${errors} errors` : ''),
  );
}

/** 'embedded' or 'PostgreSQL + Redis' for a router target's name. */
export const backendLabel = (name) => (name === 'router-pg-redis' ? 'PostgreSQL + Redis' : 'embedded');
