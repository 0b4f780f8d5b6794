// Interleaved scenario runs with autocannon, for the modes beside the targets:
//   scenarios       every reference and the router, SCENARIOS (the older overview table)
//   doors           the router's chat, Messages and Responses doors side by side
//   compare-before  this checkout's router against BENCH_BEFORE_DIR's, alternating
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { cannon, loadColumns, scenarioRequest } from './load.mjs';
import { stop } from './proc.mjs';
import { ratio, round, table, writeJson } from './report.mjs';
import {
  beforeBackend,
  PORTS,
  routerBackends,
  scratchDatabase,
  scratchDir,
  scratchRedisPrefix,
  startFloor,
  startPortkey,
  startReference,
  startRouter,
  ensureBuilt,
} from './stack.mjs';

const numberEnv = (name, fallback, max) => Math.min(Number(process.env[name] || fallback), max);

/** Whether `target` serves `scenario`: the floor has no SSE, only the router has the other doors. */
function serves(target, scenario) {
  const { door, kind } = scenarioRequest(scenario);
  if (target.name === 'nest-floor' && kind === 'stream') return false;
  return door === 'chat' || target.name.startsWith('router');
}

/**
 * Every scenario on every target that serves it, `rounds` times, after a 1 s warm-up of each;
 * within a round the targets run back to back and their order rotates from one scenario (and
 * round) to the next.
 */
export async function interleaved(targets, scenarios, { duration, rounds = 1 }) {
  // Every code path of every target warm before anything is measured: a router that has served
  // only chat completions for 2 s still spends ~1.5x the CPU per request it will once warm.
  for (const t of targets) for (const s of scenarios.filter((x) => serves(t, x))) await cannon(t, s, 1);
  const rows = [];
  let turn = 0;
  for (let round = 0; round < rounds; round++) {
    for (const scenario of scenarios) {
      const order = targets.map((_, j) => targets[(turn + j) % targets.length]);
      turn++;
      for (const t of order.filter((x) => serves(x, scenario))) {
        const row = { round, ...(await cannon(t, scenario, duration)) };
        rows.push(row);
        console.log(JSON.stringify(row));
      }
    }
  }
  return rows;
}

/**
 * Both routers under the same load at the same time, scenario by scenario (3 s of every scenario
 * first, to warm them): whatever the shared machine does during a measurement, it does to both.
 * One after the other, a 5% swing of the machine's speed between two 5 s windows reads as a 5%
 * difference: an A/A run (one build on both sides) read 0.96 req/s and 1.05 CPU µs/req that way,
 * and 0.98–1.03 CPU µs/req side by side. Side by side, the router that spends less CPU a request
 * also gets more of the two cores, so req/s moves with it.
 */
async function simultaneous(targets, scenarios, duration) {
  for (const s of scenarios) await Promise.all(targets.map((t) => cannon(t, s, 3)));
  const rows = [];
  for (const scenario of scenarios) {
    const measured = await Promise.all(targets.map((t) => cannon(t, scenario, duration)));
    for (const row of measured) console.log(JSON.stringify(row));
    rows.push(...measured);
  }
  return rows;
}

/** For COMPARE=pinned: the routers' CPU (the last) and everyone else's (the rest). */
function pinningCpus() {
  const n = availableParallelism();
  if (n < 2) throw new Error('COMPARE=pinned needs at least 2 CPUs');
  return { routers: String(n - 1), others: n === 2 ? '0' : `0-${n - 2}` };
}

/** Pins every thread of a process to `cpus` (taskset, util-linux). */
function pinTo(pid, cpus) {
  execFileSync('taskset', ['-a', '-cp', cpus, String(pid)], { stdio: 'ignore' });
}

/** Mean of a field over the rows of one target and scenario (the rounds). */
function mean(rows, target, scenario, field) {
  const xs = rows.filter((r) => r.target === target && r.scenario === scenario).map((r) => r[field]);
  return xs.length ? round(xs.reduce((a, b) => a + b, 0) / xs.length, 1) : NaN;
}

/** `npm run bench -- scenarios`: the overview of every target (SCENARIOS, DURATION s each). */
export async function scenariosMode({ jsonFile }) {
  ensureBuilt();
  const scenarios = (process.env.SCENARIOS || 'nonstream-c50 nonstream-c500 stream-c100')
    .split(/\s+/)
    .filter(Boolean);
  const duration = numberEnv('DURATION', 8, 60);
  const fast = await startReference('fast');
  const targets = [fast.direct, fast.null, await startFloor(fast.port)];
  const [embedded] = await routerBackends({ embeddedOnly: true });
  targets.push(await startRouter(embedded, fast.port));
  // The same router writing usage rows and audit events in background batches
  // (ATP_DURABLE_RECORDS=false, the behaviour before the group commit): what durability costs.
  const batched = {
    ...embedded,
    name: 'router-batched',
    port: PORTS.routerBatched,
    dir: scratchDir('atp-bench-b-'),
  };
  targets.push(await startRouter(batched, fast.port, { ATP_DURABLE_RECORDS: 'false' }));
  const workers = Number(process.env.BENCH_ROUTER_WORKERS || 1);
  if (workers > 1) targets.push(await workersRouter(workers, fast.port));
  const before = beforeBackend();
  if (before) targets.push(await startRouter(before, fast.port));
  const portkey = await startPortkey(fast.port);
  if (portkey) targets.push(portkey);

  const rows = await interleaved(targets, scenarios, { duration });
  table(`${duration} s per scenario and target`, loadColumns, rows);
  const get = (t, s) => rows.find((r) => r.target === t && r.scenario === s);
  const routers = targets.filter((t) => t.name.startsWith('router')).map((t) => t.name);
  const ratios = [];
  for (const s of scenarios)
    for (const name of routers) {
      const r = get(name, s);
      const ref = scenarioRequest(s).chat; // a door's scenario is compared with its chat counterpart's references
      const [d, n, f, p] = ['direct', 'null', 'nest-floor', 'portkey'].map((t) => get(t, ref));
      if (r && d && n) ratios.push({ s, name, r, d, n, f, p });
    }
  table(
    'ratios',
    [
      ['scenario', (x) => x.s, 'l'],
      ['router', (x) => x.name, 'l'],
      ['router / null req/s', (x) => ratio(x.r.rps, x.n.rps)],
      ['router p99 / direct p99', (x) => ratio(x.r.p99, x.d.p99)],
      ['router / portkey req/s', (x) => (x.p ? ratio(x.r.rps, x.p.rps) : NaN)],
      ['router / floor CPU µs/req', (x) => (x.f ? ratio(x.r.cpuPerReq, x.f.cpuPerReq) : NaN)],
      ['floor / null req/s', (x) => (x.f ? ratio(x.f.rps, x.n.rps) : NaN)],
    ],
    ratios,
  );
  const durable = scenarios.map((sc) => ({ sc, d: get('router', sc), b: get('router-batched', sc) }));
  table(
    'durable records (router) / background batches (router-batched)',
    [
      ['scenario', (x) => x.sc, 'l'],
      ['durable / batched req/s', (x) => ratio(x.d?.rps, x.b?.rps)],
      ['durable / batched p99', (x) => ratio(x.d?.p99, x.b?.p99)],
    ],
    durable,
  );
  if (jsonFile) writeJson(jsonFile, { mode: 'scenarios', duration, rows });
  return 0;
}

/** A router as ATP_ROUTER_WORKERS processes on Redis (and PostgreSQL when set), as on Cloud Run. */
async function workersRouter(workers, upstreamPort) {
  if (!process.env.REDIS_URL) throw new Error('BENCH_ROUTER_WORKERS > 1 needs REDIS_URL');
  const db = await scratchDatabase();
  const backend = {
    name: `router-${workers}w`,
    port: PORTS.routerWorkers,
    dir: scratchDir('atp-bench-w-'),
    env: { DATABASE_URL: db ?? '', REDIS_URL: process.env.REDIS_URL, REDIS_KEY_PREFIX: scratchRedisPrefix() },
  };
  return startRouter(backend, upstreamPort, { ATP_ROUTER_WORKERS: String(workers) });
}

/**
 * `npm run bench -- doors`: the same call through the chat completions, Anthropic Messages and
 * OpenAI Responses doors of one router (embedded), non-streamed at 50 connections and streamed
 * at 100; Responses with `store: false` and with its default (`store: true`).
 */
export async function doorsMode({ jsonFile }) {
  ensureBuilt();
  const duration = numberEnv('DURATION', 5, 60);
  const fast = await startReference('fast');
  const [embedded] = await routerBackends({ embeddedOnly: true });
  const router = await startRouter(embedded, fast.port);
  const doors = ['', 'messages-', 'responses-', 'responses-store-'];
  const scenarios = ['nonstream-c50', 'stream-c100'].flatMap((s) => doors.map((d) => `${d}${s}`));
  const rounds = Math.max(1, numberEnv('ROUNDS', 2, 10));
  const rows = await interleaved([router], scenarios, { duration, rounds });
  table(
    `router (embedded), ${rounds} rounds of ${duration} s per scenario`,
    [['round', (r) => r.round], ...loadColumns],
    rows,
  );
  const pairs = scenarios
    .filter((s) => scenarioRequest(s).door !== 'chat')
    .map((s) => {
      const chat = scenarioRequest(s).chat;
      const of = (x, field) => mean(rows, 'router', x, field);
      return {
        s,
        rps: ratio(of(s, 'rps'), of(chat, 'rps')),
        p99: ratio(of(s, 'p99'), of(chat, 'p99')),
        cpu: ratio(of(s, 'cpuPerReq'), of(chat, 'cpuPerReq')),
      };
    });
  table(
    `door / chat (means over ${rounds} rounds)`,
    [
      ['scenario', (x) => x.s, 'l'],
      ['door / chat req/s', (x) => x.rps],
      ['door / chat p99', (x) => x.p99],
      ['door / chat CPU µs/req', (x) => x.cpu],
    ],
    pairs,
  );
  if (jsonFile) writeJson(jsonFile, { mode: 'doors', duration, rounds, rows, pairs });
  return 0;
}

/**
 * `npm run bench -- compare-before`: this checkout's router against the one built in
 * BENCH_BEFORE_DIR (both embedded, same env), ROUNDS (even, default 4) rounds of nonstream-c50,
 * nonstream-c500 and stream-c100, both routers restarted each round in alternating start order
 * and loaded side by side ({@link simultaneous}; `COMPARE=sequential`: one after the other, the
 * measuring order rotating; `COMPARE=pinned`: side by side with both routers pinned to the last
 * CPU and this process and the mock to the others, so both routers get the same share of one
 * core whatever else runs on the machine); after / before ratios of the mean req/s and CPU µs
 * per request.
 */
export async function compareBeforeMode({ jsonFile }) {
  const backend = beforeBackend();
  if (!backend) throw new Error('compare-before needs BENCH_BEFORE_DIR (a checkout with dist/ built)');
  ensureBuilt();
  const duration = numberEnv('DURATION', 5, 60);
  // An even number of rounds: each round restarts both routers, the start order alternating.
  // Measured with the same build on both sides (an A/A run): the router started first served
  // 7–10% fewer requests per second than the one started second, whichever it was, so a fixed
  // order shows a difference that is not in the code.
  const rounds = 2 * Math.ceil(Math.max(2, numberEnv('ROUNDS', 4, 10)) / 2);
  const fast = await startReference('fast');
  const [embedded] = await routerBackends({ embeddedOnly: true });
  const scenarios = (process.env.SCENARIOS || 'nonstream-c50 nonstream-c500 stream-c100')
    .split(/\s+/)
    .filter(Boolean);
  const sideBySide = process.env.COMPARE !== 'sequential';
  const pinned = process.env.COMPARE === 'pinned' ? pinningCpus() : null;
  if (pinned) for (const pid of [process.pid, fast.direct.pid]) pinTo(pid, pinned.others);
  const rows = [];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 ? [backend, embedded] : [embedded, backend];
    const targets = [];
    for (const b of order) targets.push(await startRouter(b, fast.port));
    if (pinned) for (const t of targets) pinTo(t.pid, pinned.routers);
    const measured = sideBySide
      ? await simultaneous(targets, scenarios, duration)
      : await interleaved(targets, scenarios, { duration });
    rows.push(...measured.map((r) => ({ ...r, round })));
    await Promise.all(targets.map((t) => stop(t.child)));
  }
  const how = pinned
    ? `side by side, both pinned to CPU ${pinned.routers}`
    : sideBySide
      ? 'side by side'
      : 'one after the other';
  table(
    `after (router) and before (router-before), ${how}, ${rounds} rounds of ${duration} s`,
    [['round', (r) => r.round], ...loadColumns],
    rows,
  );
  const summary = scenarios.map((s) => {
    const [a, b] = ['router', 'router-before'].map((t) => ({
      rps: mean(rows, t, s, 'rps'),
      cpu: mean(rows, t, s, 'cpuPerReq'),
      p99: mean(rows, t, s, 'p99'),
    }));
    return { s, a, b };
  });
  table(
    `after / before (means over ${rounds} rounds; ${process.env.BENCH_BEFORE_DIR})`,
    [
      ['scenario', (x) => x.s, 'l'],
      ['after req/s', (x) => x.a.rps],
      ['before req/s', (x) => x.b.rps],
      ['after / before req/s', (x) => ratio(x.a.rps, x.b.rps)],
      ['after CPU µs/req', (x) => x.a.cpu],
      ['before CPU µs/req', (x) => x.b.cpu],
      ['after / before CPU µs/req', (x) => ratio(x.a.cpu, x.b.cpu)],
      ['after / before p99', (x) => ratio(x.a.p99, x.b.p99)],
    ],
    summary,
  );
  if (jsonFile) writeJson(jsonFile, { mode: 'compare-before', duration, rounds, rows, summary });
  return 0;
}
