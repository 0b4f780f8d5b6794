// `npm run bench`: issue 19's targets in one run, each printed as a table and as a PASS / FAIL /
// SKIP line with its verdict, and kept as JSON (bench/results/<time>.json, and --json <file>)
// that a later run compares itself with (--compare <file>).
//
// The references start once: the mock in three profiles (fast, 20 ms latency, 100 chunks 50 ms
// apart), the bare Node proxy in front of each, the bare Nest + Fastify pass-through. The router
// runs on the embedded default and, with DATABASE_URL and REDIS_URL, on PostgreSQL (a scratch
// database) + Redis (a fresh key prefix); it is started anew for each phase, pointed at that
// phase's mock (one OPENAI_BASE_URL per process), with the same data directory and database.
import { hostname, loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { addedLatency } from './added-latency.mjs';
import { concurrentStreams } from './concurrent-streams.mjs';
import { cpuAndBurst } from './cpu-and-burst.mjs';
import { memoryAtScale } from './memory-at-scale.mjs';
import { isStopping } from './proc.mjs';
import { compareWith, Metrics, outcome, printSummary, skip, writeJson } from './report.mjs';
import {
  ensureBuilt,
  root,
  routerBackends,
  routerEnvOverrides,
  SHARED,
  startFloor,
  startPortkey,
  startReference,
  startRouter,
  stopTargets,
} from './stack.mjs';

const WALL_LIMIT_S = 360;
const ALL = ['T1', 'T2', 'T3', 'T4', 'T5'];
const NO_PG = 'DATABASE_URL and REDIS_URL not both set';

const numberEnv = (name, fallback, max) => Math.min(Number(process.env[name] || fallback), max);

/** What a run measures, from the environment (documented in bench/README.md). */
function settings() {
  return {
    duration: numberEnv('DURATION', 5, 60),
    t1Seconds: numberEnv('T1_SECONDS', process.env.DURATION || 6, 60),
    streams: numberEnv('STREAMS', 1000, 5000),
    memorySizes: process.env.BENCH_MEMORY_SIZES || '1000,10000,100000',
    memoryDuration: numberEnv('BENCH_MEMORY_DURATION', 2, 30),
    routerEnv: routerEnvOverrides(),
  };
}

/** The routers start side by side (each takes a few seconds of mostly one core to boot). */
function startRouters(backends, upstreamPort) {
  return Promise.all(backends.map((b) => startRouter(b, upstreamPort)));
}

/** Runs `measure(routers)` with the routers started on the mock at `upstreamPort`, then stops them. */
async function withRouters(backends, upstreamPort, measure) {
  const routers = await startRouters(backends, upstreamPort);
  try {
    return await measure(routers);
  } finally {
    await stopTargets(routers);
  }
}

/** @param {{ only?: string[], jsonFile?: string, compareFile?: string }} options */
export async function issueTargets({ only = ALL, jsonFile, compareFile }) {
  const t0 = performance.now();
  const startedAt = new Date();
  const cfg = settings();
  const want = (id) => only.includes(id);
  const metrics = new Metrics();
  const outcomes = [];
  ensureBuilt();
  const backends = await routerBackends();
  const pgSkip = (id, label) =>
    backends.length > 1 ? [] : [skip(id, `${label} (PostgreSQL + Redis)`, NO_PG)];
  const mocks = {
    fast: want('T2') || want('T4') ? await startReference('fast') : null,
    slow: want('T1') ? await startReference('slow') : null,
    streams: want('T3') ? await startReference('streams') : null,
  };
  // T2 and T4 are measured in one phase (the floor's c50 run is part of it): `--only T4` needs it too.
  const floor = want('T2') || want('T4') ? await startFloor(mocks.fast.port) : null;
  console.log(
    `issue 19 targets ${only.join(' ')}; router on ${backends.map((b) => b.name).join(' and ')}; ` +
      `mock and null proxy from ${SHARED ?? 'bench/'}; ${JSON.stringify(cfg)}`,
  );

  // Each phase's wall time goes into the T6 verdict and the JSON: where the 6 minutes go.
  const phases = {};
  const phase = async (name, measure) => {
    const p0 = performance.now();
    outcomes.push(...(await measure()));
    phases[name] = Math.round((performance.now() - p0) / 1000);
    metrics.lower(`phase.${name}.seconds`, phases[name], 's');
  };
  if (want('T1'))
    await phase('T1', async () => [
      ...(await withRouters(backends, mocks.slow.port, (routers) =>
        addedLatency({ reference: mocks.slow.null, routers, seconds: cfg.t1Seconds, metrics }),
      )),
      ...pgSkip('T1', 'added latency'),
    ]);
  if (want('T2') || want('T4'))
    await phase('T2+T4', async () =>
      (
        await withRouters(backends, mocks.fast.port, (routers) =>
          cpuAndBurst({ floor, reference: mocks.fast.null, routers, duration: cfg.duration, metrics }),
        )
      ).filter((o) => want(o.id)),
    );
  if (want('T3'))
    await phase('T3', async () => {
      const { direct, null: nul, port } = mocks.streams;
      const portkey = await startPortkey(port);
      const got = await withRouters(backends, port, (routers) =>
        concurrentStreams({ direct, nul, routers, portkey, streams: cfg.streams, metrics }),
      );
      if (portkey) await stopTargets([portkey]);
      return [...got, ...pgSkip('T3', `${cfg.streams} streams`)];
    });
  if (want('T5'))
    await phase('T5', () => memoryAtScale({ sizes: cfg.memorySizes, duration: cfg.memoryDuration, metrics }));

  if (isStopping()) return 130; // interrupted: no result to keep
  const seconds = Math.round((performance.now() - t0) / 1000);
  metrics.lower('T6.seconds', seconds, 's');
  const stamp = startedAt
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
  const files = [join(root, 'bench', 'results', `${stamp}.json`), jsonFile].filter(Boolean);
  const complete = ALL.every(want);
  const timeline = Object.entries(phases)
    .map(([name, secs]) => `${name} ${secs} s`)
    .join(', ');
  const t6 = complete
    ? outcome(
        'T6',
        'whole run and JSON',
        seconds <= WALL_LIMIT_S,
        `${seconds} s (limit ${WALL_LIMIT_S} s; ${timeline}), written to ${files.join(' and ')}`,
      )
    : skip(
        'T6',
        'whole run and JSON',
        `a partial run (${only.join(' ')}): ${seconds} s (${timeline}), written to ${files.join(' and ')}`,
      );
  outcomes.push(t6);
  const result = {
    startedAt: startedAt.toISOString(),
    seconds,
    phases,
    only,
    settings: cfg,
    machine: {
      hostname: hostname(),
      cpus: cpus().length,
      loadavg: loadavg().map((n) => Math.round(n * 100) / 100),
      node: process.version,
    },
    backends: backends.map((b) => b.name),
    targets: outcomes,
    metrics: metrics.all,
  };
  try {
    for (const f of files) writeJson(f, result);
  } catch (err) {
    Object.assign(t6, { status: 'FAIL', verdict: `the result JSON could not be written: ${err.message}` });
  }
  printSummary(outcomes);
  if (compareFile) compareWith(compareFile, result);
  return 0;
}
