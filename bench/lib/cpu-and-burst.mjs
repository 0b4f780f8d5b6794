// Issue 19 T2 (work per CPU) and T4 (burst fairness), against the mock that answers at once.
// T2: router CPU µs per request at 50 connections ≤ 2.0× the bare Nest + Fastify pass-through's
// (embedded), and on PostgreSQL + Redis ≤ 1.3× the embedded router's. T4: at 500 connections the
// router's p99 ≤ 3× the bare Node proxy's p99.
import { backendLabel } from './added-latency.mjs';
import { cannon, loadColumns, warmUp } from './load.mjs';
import { outcome, ratio, skip, table } from './report.mjs';

const T2_FLOOR_LIMIT = 2.0;
const T2_BACKEND_LIMIT = 1.3;
const T4_LIMIT = 3;

/** Runs `scenario` on each target once, back to back. */
async function runAll(targets, scenario, duration, metrics) {
  const rows = [];
  for (const t of targets) {
    const r = await cannon(t, scenario, duration);
    rows.push(r);
    metrics.higher(`${scenario}.${r.target}.rps`, r.rps, 'req/s');
    metrics.lower(`${scenario}.${r.target}.p99`, r.p99, 'ms');
    metrics.lower(`${scenario}.${r.target}.cpu_us_per_req`, r.cpuPerReq, 'µs');
    metrics.lower(`${scenario}.${r.target}.errors`, r.errors + r.non2xx, 'count');
  }
  return rows;
}

const failures = (r) => r.errors + r.non2xx;

/** T2 and T4; `routers` are [embedded, pg-redis?]. */
export async function cpuAndBurst({ floor, reference, routers, duration, metrics }) {
  // The routers were started for this phase: the JIT, pools and caches warm at the first scenario.
  for (const t of [floor, reference]) await warmUp(t, 1);
  for (const t of routers) await cannon(t, 'nonstream-c50', 3);
  const c50 = await runAll([floor, ...routers], 'nonstream-c50', duration, metrics);
  const c500 = await runAll([reference, ...routers], 'nonstream-c500', duration, metrics);
  table(`T2 and T4: non-streamed chat completions, ${duration} s each`, loadColumns, [...c50, ...c500]);
  const results = [...workPerCpu(c50, routers, metrics), ...burst(c500, routers, metrics)];
  return results;
}

function workPerCpu(rows, routers, metrics) {
  const [floor, embedded, pg] = ['nest-floor', 'router', 'router-pg-redis'].map((n) =>
    rows.find((r) => r.target === n),
  );
  const vsFloor = ratio(embedded.cpuPerReq, floor.cpuPerReq);
  metrics.lower('T2.router_over_floor', vsFloor, 'x');
  const note = (r) => (failures(r) ? `; ${failures(r)} failed requests` : '');
  const out = [
    outcome(
      'T2',
      'work per CPU (embedded)',
      vsFloor <= T2_FLOOR_LIMIT && !failures(embedded),
      `router ${embedded.cpuPerReq} µs/req = ${vsFloor}x nest-floor ${floor.cpuPerReq} µs/req (limit ${T2_FLOOR_LIMIT}x)${note(embedded)}`,
    ),
  ];
  if (!routers.some((t) => t.name === 'router-pg-redis')) {
    out.push(skip('T2', 'work per CPU (PostgreSQL + Redis)', 'DATABASE_URL and REDIS_URL not both set'));
    return out;
  }
  const vsEmbedded = ratio(pg.cpuPerReq, embedded.cpuPerReq);
  metrics.lower('T2.pg_redis_over_embedded', vsEmbedded, 'x');
  out.push(
    outcome(
      'T2',
      'work per CPU (PostgreSQL + Redis)',
      vsEmbedded <= T2_BACKEND_LIMIT && !failures(pg),
      `router-pg-redis ${pg.cpuPerReq} µs/req = ${vsEmbedded}x embedded ${embedded.cpuPerReq} µs/req (limit ${T2_BACKEND_LIMIT}x; router process only)${note(pg)}`,
    ),
  );
  return out;
}

function burst(rows, routers, metrics) {
  const ref = rows.find((r) => r.target === 'null');
  const out = routers.map((t) => {
    const r = rows.find((x) => x.target === t.name);
    const x = ratio(r.p99, ref.p99);
    metrics.lower(`T4.${t.name}_p99_over_null`, x, 'x');
    return outcome(
      'T4',
      `burst fairness, 500 connections (${backendLabel(t.name)})`,
      x <= T4_LIMIT && !failures(r),
      `${t.name} p99 ${r.p99} ms = ${x}x null ${ref.p99} ms (limit ${T4_LIMIT}x); ${failures(r)} failed requests`,
    );
  });
  if (routers.length < 2)
    out.push(
      skip(
        'T4',
        'burst fairness, 500 connections (PostgreSQL + Redis)',
        'DATABASE_URL and REDIS_URL not both set',
      ),
    );
  return out;
}
