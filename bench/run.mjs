#!/usr/bin/env node
// `npm run bench` — router overhead against a mock upstream, measured in one run:
//   direct  (the mock itself: the floor)
//   null    (a bare Node pass-through proxy: the cost of one extra hop)
//   router  (ATP's router from dist/, authenticated with an API key, usage recorded)
//   portkey (optional: set BENCH_PORTKEY_DIR to a copy of ../shared/bench with `npm ci` done)
// Scenarios run interleaved (every target back to back, order rotating). Loopback only; every
// load run is bounded by DURATION seconds. `npm run bench -- memory` runs the memory gateway bench.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

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
  let dropDb = null;
  if (process.env.DATABASE_URL) {
    const { default: pg } = await import('pg');
    const name = `atp_bench_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const u = new URL(process.env.DATABASE_URL);
    u.pathname = `/${name}`;
    env.DATABASE_URL = u.toString();
    dropDb = async () => {
      const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    };
  }
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
    await dropDb?.();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const DURATION = Math.min(Number(process.env.DURATION || 8), 60);
const SCENARIOS = (process.env.SCENARIOS || 'nonstream-c50 nonstream-c500 stream-c100')
  .split(/\s+/)
  .filter(Boolean);
const PORTS = { mock: 19100, null: 19090, router: 19080, portkey: 18787 };
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

function cpuSeconds(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

async function load(target, scenario) {
  const [kind, conns] = scenario.split('-c');
  const body = JSON.stringify({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Benchmark prompt: say something short.' }],
    ...(kind === 'stream' ? { stream: true } : {}),
  });
  const cpu0 = target.pid ? cpuSeconds(target.pid) : NaN;
  const result = await autocannon({
    url: `${target.base}/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body,
    connections: Number(conns),
    duration: DURATION,
    timeout: 10,
  });
  const cpu = target.pid ? ((cpuSeconds(target.pid) - cpu0) / DURATION) * 100 : NaN;
  return {
    target: target.name,
    scenario,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    cpu: Number.isNaN(cpu) ? '' : `${Math.round(cpu)}%`,
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
    start('mock', [join(here, 'mock-upstream.mjs'), String(PORTS.mock)]);
    start('null', [join(here, 'null-proxy.mjs'), String(PORTS.null), String(PORTS.mock)]);
    const router = start('router', [join(root, 'dist', 'apps', 'router', 'main.js')], {
      PORT: String(PORTS.router),
      ATP_DATA_DIR: dataDir,
      OPENAI_API_KEY: 'sk-bench',
      OPENAI_BASE_URL: `http://127.0.0.1:${PORTS.mock}/v1`,
      LOG_LEVEL: process.env.LOG_LEVEL || 'INFO',
      NODE_ENV: 'development',
    });
    await waitFor(`http://127.0.0.1:${PORTS.mock}/health`);
    await waitFor(`http://127.0.0.1:${PORTS.router}/health`);
    const credsFile = join(dataDir, 'dev-credentials.json');
    for (let i = 0; i < 50 && !existsSync(credsFile); i++) await new Promise((r) => setTimeout(r, 100));
    const { api_key: apiKey } = JSON.parse(readFileSync(credsFile, 'utf8'));

    const targets = [
      { name: 'direct', base: `http://127.0.0.1:${PORTS.mock}/v1`, headers: {}, pid: children[0].pid },
      { name: 'null', base: `http://127.0.0.1:${PORTS.null}/v1`, headers: {}, pid: children[1].pid },
      {
        name: 'router',
        base: `http://127.0.0.1:${PORTS.router}/v1`,
        headers: { authorization: `Bearer ${apiKey}` },
        pid: router.pid,
      },
    ];
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
        const row = await load(t, scenario);
        rows.push(row);
        console.log(JSON.stringify(row));
      }
    }
    console.log(`\n| scenario | target | req/s | p50 ms | p99 ms | errors | non-2xx | target CPU |`);
    console.log(`|---|---|---:|---:|---:|---:|---:|---:|`);
    for (const r of rows)
      console.log(
        `| ${r.scenario} | ${r.target} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.non2xx} | ${r.cpu} |`,
      );
    console.log(
      `\n| scenario | router / direct RPS | router / null RPS | router p99 / direct p99 |${portkeyDir ? ' router / portkey RPS |' : ''}`,
    );
    console.log(`|---|---:|---:|---:|${portkeyDir ? '---:|' : ''}`);
    for (const s of SCENARIOS) {
      const get = (n) => rows.find((r) => r.scenario === s && r.target === n);
      const [d, n, r, p] = [get('direct'), get('null'), get('router'), get('portkey')];
      const ratio = (a, b) => (b ? (a / b).toFixed(2) : 'n/a');
      console.log(
        `| ${s} | ${ratio(r.rps, d.rps)} | ${ratio(r.rps, n.rps)} | ${ratio(r.p99, d.p99)} |${p ? ` ${ratio(r.rps, p.rps)} |` : ''}`,
      );
    }
  } finally {
    stopAll();
    await new Promise((r) => setTimeout(r, 500));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (mode === 'memory') process.exit(await memoryBench(process.argv.slice(3)));

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err.message);
    stopAll();
    process.exit(1);
  },
);
