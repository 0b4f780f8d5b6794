#!/usr/bin/env node
// `npm run bench` — router overhead against a mock upstream, measured in one run:
//   direct  (the mock itself: the floor)
//   null    (a bare Node pass-through proxy: the cost of one extra hop)
//   nest-floor (NestJS + Fastify forwarding the body and nothing else: the stack's own ceiling)
//   router  (ATP's router from dist/, authenticated with an API key, usage recorded)
//   portkey (optional: set BENCH_PORTKEY_DIR to a copy of ../shared/bench with `npm ci` done)
// Scenarios run interleaved (every target back to back, order rotating). Loopback only; every
// load run is bounded by DURATION seconds. `npm run bench -- memory` runs the memory gateway bench.
// The mock upstream and the null proxy are the product's (../shared/bench, or BENCH_SHARED_DIR)
// when present, so the numbers compare with its RESULTS.md; otherwise bench/'s own twins.
// The router's tenant has limits and a budget set (checked on every request) and audit is on.
// BENCH_ROUTER_WORKERS=2 also runs the router as 2 workers (needs REDIS_URL; uses DATABASE_URL if set).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { streamLoad } from './stream-load.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const mode = process.argv[2] ?? 'router';

/**
 * `npm run bench -- memory`: starts the memory gateway from dist/ (on DATABASE_URL/REDIS_URL when
 * set, in a fresh database dropped afterwards; else embedded), then runs bench/memory.mjs.
 * With `--url` it only runs the load against a gateway that is already up.
 */
async function memoryBench(args) {
  const load = (extra) =>
    spawnSync(process.execPath, [join(here, 'memory.mjs'), ...args, ...extra], { stdio: 'inherit' }).status ??
    1;
  if (args.some((a) => a.startsWith('--url'))) return load([]);
  if (!existsSync(join(root, 'dist', 'apps', 'memory-gateway', 'main.js'))) {
    if (spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' }).status !== 0)
      return 1;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'atp-bench-mem-'));
  const env = {
    PORT: '18000',
    ATP_DATA_DIR: dataDir,
    LOG_LEVEL: process.env.LOG_LEVEL || 'WARNING',
    NODE_ENV: 'development',
  };
  const db = await scratchDatabase();
  if (db) env.DATABASE_URL = db;
  if (process.env.REDIS_URL) env.REDIS_KEY_PREFIX = `atp-bench-${Date.now().toString(36)}:`;
  const gw = start('memory-gateway', [join(root, 'dist', 'apps', 'memory-gateway', 'main.js')], env);
  try {
    await waitFor('http://127.0.0.1:18000/health');
    const credsFile = join(dataDir, 'dev-credentials.json');
    for (let i = 0; i < 100 && !existsSync(credsFile); i++) await new Promise((r) => setTimeout(r, 100));
    const { api_key: key } = JSON.parse(readFileSync(credsFile, 'utf8'));
    const where = `${env.DATABASE_URL ? 'PostgreSQL' : 'SQLite'} + ${process.env.REDIS_URL ? 'Redis' : 'in-process cache'}`;
    console.log(`memory gateway on ${where}`);
    return load(['--url', 'http://127.0.0.1:18000', '--key', key]);
  } finally {
    gw.kill('SIGTERM');
    await new Promise((r) => gw.once('exit', r));
    for (const c of cleanups) await Promise.resolve(c()).catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const DURATION = Math.min(Number(process.env.DURATION || 8), 60);
const SCENARIOS = (process.env.SCENARIOS || 'nonstream-c50 nonstream-c500 stream-c100')
  .split(/\s+/)
  .filter(Boolean);
const PORTS = {
  mock: 19100,
  null: 19090,
  floor: 19091,
  router: 19080,
  routerW: 19081,
  routerBatched: 19082,
  portkey: 18787,
};
const SHARED = [process.env.BENCH_SHARED_DIR, join(root, '..', 'shared', 'bench')].find(
  (d) => d && existsSync(join(d, 'mock-upstream.mjs')) && existsSync(join(d, 'null-gateway.mjs')),
);
const WORKERS = Number(process.env.BENCH_ROUTER_WORKERS || 1);
const children = [];

function start(name, args, env = {}, cwd = root) {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
  child.on('exit', (code) => {
    if (!stopping && code !== 0) console.error(`${name} exited with ${code}: ${err}`);
  });
  children.push(child);
  return child;
}

let stopping = false;
function stopAll() {
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
}
process.on('SIGINT', () => {
  stopAll();
  process.exit(130);
});

async function waitFor(url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

function cpuSeconds(pid, tree = false) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    let total = (Number(f[11]) + Number(f[12])) / 100;
    if (tree) {
      const kids = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.split('\n');
      for (const k of kids.filter(Boolean)) total += cpuSeconds(Number(k));
    }
    return total;
  } catch {
    return NaN;
  }
}

const cleanups = [];

/**
 * The development key of a router started on `dataDir`, after setting its tenant's limits and
 * budget high enough never to refuse a bench request: every request still goes through the rate,
 * token, concurrency and budget checks (reserve, then settle).
 */
async function benchKey(dataDir, url) {
  const credsFile = join(dataDir, 'dev-credentials.json');
  for (let i = 0; i < 100 && !existsSync(credsFile); i++) await new Promise((r) => setTimeout(r, 100));
  const { api_key: key } = JSON.parse(readFileSync(credsFile, 'utf8'));
  const res = await fetch(`${url}/v1/admin/limits`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      rpm: 100_000_000,
      tpm: 1_000_000_000,
      concurrency: 100_000,
      monthly_budget_usd: 1_000_000,
    }),
  });
  if (!res.ok) throw new Error(`setting the bench limits failed: ${res.status} ${await res.text()}`);
  return key;
}

/** A fresh PostgreSQL database when DATABASE_URL is set (dropped at the end), else null. */
async function scratchDatabase() {
  if (!process.env.DATABASE_URL) return null;
  const { default: pg } = await import('pg');
  const name = `atp_bench_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  cleanups.push(async () => {
    const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  });
  const u = new URL(process.env.DATABASE_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function load(target, scenario) {
  const [kind, conns] = scenario.split('-c');
  const body = JSON.stringify({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Benchmark prompt: say something short.' }],
    ...(kind === 'stream' ? { stream: true } : {}),
  });
  const cpu0 = target.pid ? cpuSeconds(target.pid, target.tree) : NaN;
  const result = await autocannon({
    url: `${target.base}/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body,
    connections: Number(conns),
    duration: DURATION,
    timeout: 10,
  });
  const cpu = target.pid ? ((cpuSeconds(target.pid, target.tree) - cpu0) / DURATION) * 100 : NaN;
  return {
    target: target.name,
    scenario,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    cpu: Number.isNaN(cpu) ? '' : `${Math.round(cpu)}%`,
    // CPU time of the target per response (all its threads and workers), in microseconds
    cpuPerReq:
      Number.isNaN(cpu) || !result.requests.total
        ? ''
        : Math.round(((cpu / 100) * DURATION * 1e6) / result.requests.total),
  };
}

async function main() {
  for (const app of ['router', 'cli']) {
    if (!existsSync(join(root, 'dist', 'apps', app, 'main.js'))) {
      console.log('building dist/ …');
      const b = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
      if (b.status !== 0) process.exit(1);
      break;
    }
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'atp-bench-'));
  try {
    if (SHARED) {
      console.log(`mock upstream and null proxy from ${SHARED}`);
      start('mock', [join(SHARED, 'mock-upstream.mjs'), `--port=${PORTS.mock}`]);
      start('null', [join(SHARED, 'null-gateway.mjs')], {
        NULL_GW_PORT: String(PORTS.null),
        NULL_GW_UPSTREAM: `http://127.0.0.1:${PORTS.mock}`,
      });
    } else {
      start('mock', [join(here, 'mock-upstream.mjs'), String(PORTS.mock)]);
      start('null', [join(here, 'null-proxy.mjs'), String(PORTS.null), String(PORTS.mock)]);
    }
    // The framework floor: NestJS + Fastify forwarding the request and nothing else.
    const floor = start('nest-floor', [
      join(here, 'nest-floor.mjs'),
      String(PORTS.floor),
      `http://127.0.0.1:${PORTS.mock}`,
    ]);
    const routerEnv = {
      ATP_DATA_DIR: dataDir,
      OPENAI_API_KEY: 'sk-bench',
      OPENAI_BASE_URL: `http://127.0.0.1:${PORTS.mock}/v1`,
      LOG_LEVEL: process.env.LOG_LEVEL || 'INFO',
      NODE_ENV: 'development',
      AUDIT_LOG_ENABLED: 'true',
    };
    // One process on the embedded defaults, as `npm start` runs it.
    const router = start('router', [join(root, 'dist', 'apps', 'router', 'main.js')], {
      ...routerEnv,
      DATABASE_URL: '',
      REDIS_URL: '',
      PORT: String(PORTS.router),
    });
    // The same router writing usage rows and audit events in background batches
    // (ATP_DURABLE_RECORDS=false, the behaviour before the group commit): what durability costs.
    const batchedDir = mkdtempSync(join(tmpdir(), 'atp-bench-b-'));
    cleanups.push(() => rmSync(batchedDir, { recursive: true, force: true }));
    const batched = start('router-batched', [join(root, 'dist', 'apps', 'router', 'main.js')], {
      ...routerEnv,
      ATP_DATA_DIR: batchedDir,
      ATP_DURABLE_RECORDS: 'false',
      DATABASE_URL: '',
      REDIS_URL: '',
      PORT: String(PORTS.routerBatched),
    });
    await waitFor(`http://127.0.0.1:${PORTS.mock}/health`);
    await waitFor(`http://127.0.0.1:${PORTS.router}/health`);
    await waitFor(`http://127.0.0.1:${PORTS.routerBatched}/health`);
    await waitFor(`http://127.0.0.1:${PORTS.floor}/health`);
    const apiKey = await benchKey(dataDir, `http://127.0.0.1:${PORTS.router}`);
    const batchedKey = await benchKey(batchedDir, `http://127.0.0.1:${PORTS.routerBatched}`);

    const targets = [
      { name: 'direct', base: `http://127.0.0.1:${PORTS.mock}/v1`, headers: {}, pid: children[0].pid },
      { name: 'null', base: `http://127.0.0.1:${PORTS.null}/v1`, headers: {}, pid: children[1].pid },
      { name: 'nest-floor', base: `http://127.0.0.1:${PORTS.floor}/v1`, headers: {}, pid: floor.pid },
      {
        name: 'router',
        base: `http://127.0.0.1:${PORTS.router}/v1`,
        headers: { authorization: `Bearer ${apiKey}` },
        pid: router.pid,
      },
      {
        name: 'router-batched',
        base: `http://127.0.0.1:${PORTS.routerBatched}/v1`,
        headers: { authorization: `Bearer ${batchedKey}` },
        pid: batched.pid,
      },
    ];
    if (WORKERS > 1) {
      if (!process.env.REDIS_URL) throw new Error('BENCH_ROUTER_WORKERS > 1 needs REDIS_URL');
      const wDir = mkdtempSync(join(tmpdir(), 'atp-bench-w-'));
      cleanups.push(() => rmSync(wDir, { recursive: true, force: true }));
      const db = await scratchDatabase();
      const rw = start('router-workers', [join(root, 'dist', 'apps', 'router', 'main.js')], {
        ...routerEnv,
        ATP_DATA_DIR: wDir,
        ...(db ? { DATABASE_URL: db } : { DATABASE_URL: '' }),
        REDIS_URL: process.env.REDIS_URL,
        REDIS_KEY_PREFIX: `atp-bench-${Date.now().toString(36)}:`,
        ATP_ROUTER_WORKERS: String(WORKERS),
        PORT: String(PORTS.routerW),
      });
      await waitFor(`http://127.0.0.1:${PORTS.routerW}/health`);
      await new Promise((r) => setTimeout(r, 3000)); // the other workers start after the first
      const key = await benchKey(wDir, `http://127.0.0.1:${PORTS.routerW}`);
      targets.push({
        name: `router-${WORKERS}w`,
        base: `http://127.0.0.1:${PORTS.routerW}/v1`,
        headers: { authorization: `Bearer ${key}` },
        pid: rw.pid,
        tree: true,
      });
    }
    const portkeyDir = process.env.BENCH_PORTKEY_DIR;
    if (portkeyDir) {
      const pk = start(
        'portkey',
        [
          '--import',
          './loopback-guard.mjs',
          'node_modules/@portkey-ai/gateway/build/start-server.js',
          `--port=${PORTS.portkey}`,
          '--headless',
        ],
        { TRUSTED_CUSTOM_HOSTS: '127.0.0.1' },
        portkeyDir,
      );
      await new Promise((r) => setTimeout(r, 3000));
      targets.push({
        name: 'portkey',
        base: `http://127.0.0.1:${PORTS.portkey}/v1`,
        headers: {
          authorization: 'Bearer sk-mock',
          'x-portkey-provider': 'openai',
          'x-portkey-custom-host': `http://127.0.0.1:${PORTS.mock}/v1`,
        },
        pid: pk.pid,
      });
    }
    // Warm-up: JIT, keep-alive pools, the key cache.
    for (const t of targets)
      await autocannon({
        url: `${t.base}/chat/completions`,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...t.headers },
        body: '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"warm"}]}',
        connections: 10,
        duration: 2,
      });

    const rows = [];
    for (const [i, scenario] of SCENARIOS.entries()) {
      const order = targets.map((_, j) => targets[(i + j) % targets.length]);
      for (const t of order) {
        // The floor forwards JSON only (it has no SSE pass-through).
        if (t.name === 'nest-floor' && scenario.startsWith('stream')) continue;
        const row = await load(t, scenario);
        rows.push(row);
        console.log(JSON.stringify(row));
      }
    }
    console.log(
      `\n| scenario | target | req/s | p50 ms | p99 ms | errors | non-2xx | target CPU | CPU µs/req |`,
    );
    console.log(`|---|---|---:|---:|---:|---:|---:|---:|---:|`);
    for (const r of rows)
      console.log(
        `| ${r.scenario} | ${r.target} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.non2xx} | ${r.cpu} | ${r.cpuPerReq} |`,
      );
    console.log(
      `\n| scenario | router | router / direct RPS | router / null RPS | router p99 / direct p99 |${portkeyDir ? ' router / portkey RPS |' : ''} floor / null RPS | floor p99 / direct p99 |`,
    );
    console.log(`|---|---|---:|---:|---:|${portkeyDir ? '---:|' : ''}---:|---:|`);
    const routers = targets.filter((t) => t.name.startsWith('router')).map((t) => t.name);
    for (const s of SCENARIOS) {
      const get = (n) => rows.find((r) => r.scenario === s && r.target === n);
      const [d, n, p, f] = [get('direct'), get('null'), get('portkey'), get('nest-floor')];
      const ratio = (a, b) => (b ? (a / b).toFixed(2) : 'n/a');
      for (const name of routers) {
        const r = get(name);
        console.log(
          `| ${s} | ${name} | ${ratio(r.rps, d.rps)} | ${ratio(r.rps, n.rps)} | ${ratio(r.p99, d.p99)} |${p ? ` ${ratio(r.rps, p.rps)} |` : ''} ${f ? ratio(f.rps, n.rps) : 'n/a'} | ${f ? ratio(f.p99, d.p99) : 'n/a'} |`,
        );
      }
    }
    console.log(`\n| scenario | durable / batched req/s | durable / batched p99 |`);
    console.log(`|---|---:|---:|`);
    for (const s of SCENARIOS) {
      const [d, b] = ['router', 'router-batched'].map((n) =>
        rows.find((r) => r.scenario === s && r.target === n),
      );
      if (d && b) console.log(`| ${s} | ${(d.rps / b.rps).toFixed(2)} | ${(d.p99 / b.p99).toFixed(2)} |`);
    }
  } finally {
    stopAll();
    await new Promise((r) => setTimeout(r, 1500));
    for (const c of cleanups) await Promise.resolve(c()).catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Peak resident memory of a process so far (VmHWM), in MB. */
function peakRssMb(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  } catch {
    return NaN;
  }
}

/**
 * `npm run bench -- streams`: the Cloud Run service's concurrency on one router process —
 * STREAMS (default 1000) concurrent streamed completions, starts spread over one second, each 100
 * chunks 50 ms apart from the mock — against the mock itself, the null proxy and the router
 * (embedded; and on PostgreSQL + Redis when DATABASE_URL and REDIS_URL are set). Reports errors,
 * TTFT and inter-chunk gap p50/p99 and what the router adds to them over the mock, peak RSS, CPU.
 */
async function streamsBench() {
  const streams = Number(process.env.STREAMS || 1000);
  const mockPort = PORTS.mock + 1;
  const dataDir = mkdtempSync(join(tmpdir(), 'atp-bench-streams-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const mockArgs = SHARED
    ? [join(SHARED, 'mock-upstream.mjs'), `--port=${mockPort}`, '--chunks=100', '--chunk-delay=50', '--quiet']
    : [join(here, 'mock-upstream.mjs'), String(mockPort)];
  const mock = start('mock', mockArgs);
  const nul = SHARED
    ? start('null', [join(SHARED, 'null-gateway.mjs')], {
        NULL_GW_PORT: String(PORTS.null),
        NULL_GW_UPSTREAM: `http://127.0.0.1:${mockPort}`,
      })
    : start('null', [join(here, 'null-proxy.mjs'), String(PORTS.null), String(mockPort)]);
  const routerEnv = {
    OPENAI_API_KEY: 'sk-bench',
    OPENAI_BASE_URL: `http://127.0.0.1:${mockPort}/v1`,
    LOG_LEVEL: process.env.LOG_LEVEL || 'INFO',
    NODE_ENV: 'development',
    AUDIT_LOG_ENABLED: 'true',
  };
  const routers = [
    { name: 'router', dir: dataDir, env: { DATABASE_URL: '', REDIS_URL: '' }, port: PORTS.router },
  ];
  if (process.env.DATABASE_URL && process.env.REDIS_URL) {
    const dir = mkdtempSync(join(tmpdir(), 'atp-bench-streams-pg-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const db = await scratchDatabase();
    routers.push({
      name: 'router-pg-redis',
      dir,
      env: {
        DATABASE_URL: db,
        REDIS_URL: process.env.REDIS_URL,
        REDIS_KEY_PREFIX: `atp-bench-${Date.now().toString(36)}:`,
      },
      port: PORTS.routerW,
    });
  }
  await waitFor(`http://127.0.0.1:${mockPort}/health`);
  const targets = [
    { name: 'direct', base: `http://127.0.0.1:${mockPort}/v1`, headers: {}, pid: mock.pid },
    { name: 'null', base: `http://127.0.0.1:${PORTS.null}/v1`, headers: {}, pid: nul.pid },
  ];
  for (const r of routers) {
    const child = start(r.name, [join(root, 'dist', 'apps', 'router', 'main.js')], {
      ...routerEnv,
      ...r.env,
      ATP_DATA_DIR: r.dir,
      PORT: String(r.port),
    });
    await waitFor(`http://127.0.0.1:${r.port}/health`);
    const key = await benchKey(r.dir, `http://127.0.0.1:${r.port}`);
    targets.push({
      name: r.name,
      base: `http://127.0.0.1:${r.port}/v1`,
      headers: { authorization: `Bearer ${key}` },
      pid: child.pid,
    });
  }
  const body = JSON.stringify({
    model: 'gpt-4o-mini',
    stream: true,
    messages: [{ role: 'user', content: 'Benchmark prompt: stream a long answer.' }],
  });
  const rows = [];
  for (const t of targets) {
    // Warm-up: JIT, keys, pools.
    await streamLoad({
      url: `${t.base}/chat/completions`,
      headers: t.headers,
      body,
      streams: 20,
      spreadMs: 200,
    });
    const cpu0 = cpuSeconds(t.pid);
    const r = await streamLoad({ url: `${t.base}/chat/completions`, headers: t.headers, body, streams });
    const cpuS = cpuSeconds(t.pid) - cpu0;
    rows.push({ target: t.name, ...r, cpuS, peakRssMb: peakRssMb(t.pid) });
    console.log(JSON.stringify(rows.at(-1)));
  }
  const f = (n) => (Number.isNaN(n) ? 'n/a' : n.toFixed(1));
  const direct = rows[0];
  console.log(`\n${streams} concurrent streams, 100 chunks 50 ms apart, starts spread over 1 s`);
  console.log(
    '| target | errors | TTFT p50 ms | TTFT p99 ms | added TTFT p99 | gap p99 ms | added gap p99 | peak RSS MB | CPU s |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows)
    console.log(
      `| ${r.target} | ${r.errors}${r.errors ? ` (${r.firstErrors.join('; ')})` : ''} | ${f(r.ttftP50)} | ${f(r.ttftP99)} | ${f(r.ttftP99 - direct.ttftP99)} | ${f(r.gapP99)} | ${f(r.gapP99 - direct.gapP99)} | ${r.peakRssMb} | ${f(r.cpuS)} |`,
    );
  return rows.some((r) => r.errors) ? 1 : 0;
}

if (mode === 'memory') process.exit(await memoryBench(process.argv.slice(3)));
if (mode === 'streams') {
  const code = await streamsBench().catch((err) => {
    console.error(err.message);
    return 1;
  });
  stopAll();
  for (const c of cleanups) await Promise.resolve(c()).catch(() => {});
  process.exit(code);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err.message);
    stopAll();
    process.exit(1);
  },
);
