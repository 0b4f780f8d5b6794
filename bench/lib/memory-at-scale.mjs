// Issue 19 T5: the memory gateway at 1,000 / 10,000 / 100,000 records on PostgreSQL + Redis,
// measured by bench/memory-scale.mjs as a child (it starts its own gateways on a scratch database
// and prints its tables); this reads the JSON it writes.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { start, stop } from './proc.mjs';
import { outcome, skip } from './report.mjs';
import { root, scratchDir } from './stack.mjs';

const LABELS = {
  T5a: 'memory search p99, largest / smallest size',
  T5b: 'memory PUT ops/s, largest / smallest size',
  T5c: 'memory GET ops/s, largest / smallest size',
};

/** Runs memory-scale.mjs with `sizes` and `duration` seconds per operation; T5a–c. */
export async function memoryAtScale({ sizes, duration, metrics }) {
  if (!process.env.DATABASE_URL || !process.env.REDIS_URL)
    return Object.entries(LABELS).map(([id, label]) =>
      skip(id, label, 'DATABASE_URL and REDIS_URL not both set'),
    );
  const out = join(scratchDir('atp-bench-t5-'), 'memory-scale.json');
  const child = start(
    'memory-scale',
    [
      join(root, 'bench', 'memory-scale.mjs'),
      '--json',
      out,
      '--duration',
      String(duration),
      '--sizes',
      sizes,
    ],
    { stdout: 'inherit' },
  );
  // It stops its own gateways and drops its database on SIGTERM: give it time to.
  child.graceMs = 20_000;
  const code = await new Promise((r) => child.once('exit', (c) => r(c)));
  await stop(child);
  const result = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : null;
  if (!result?.targets?.length) {
    const why = result?.error ?? result?.detail ?? `memory-scale exited with ${code}`;
    return Object.entries(LABELS).map(([id, label]) => outcome(id, label, false, `not measured: ${why}`));
  }
  metrics.lower('T5.seconds', result.seconds, 's');
  for (const row of result.table) {
    const key = `T5.${row.size}.${row.op.replace(/ /g, '_')}`;
    metrics.higher(`${key}.ops`, row['ops/s'], 'ops/s');
    metrics.lower(`${key}.p99`, row['p99 ms'], 'ms');
  }
  return result.targets.map((t) => {
    if (t.id === 'T5a') metrics.lower('T5.search_p99_largest_over_smallest', t.value, 'x');
    else metrics.higher(`T5.${t.id === 'T5b' ? 'put' : 'get'}_ops_largest_over_smallest`, t.value, 'x');
    return outcome(t.id, LABELS[t.id] ?? t.name, t.pass, `${t.value}x (limit ${t.limit}x): ${t.detail}`);
  });
}
