// What the bench puts under load, all on loopback: the mock upstream (three profiles), the bare
// Node proxy in front of each, the bare Nest + Fastify pass-through, the router (embedded; on
// PostgreSQL + Redis; an older checkout's build) and, optionally, Portkey.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onCleanup, sleep, start, stop, waitFor } from './proc.mjs';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');
export const root = join(here, '..');

/** The product's mock and null proxy (../shared/bench, or BENCH_SHARED_DIR) when present. */
export const SHARED = [process.env.BENCH_SHARED_DIR, join(root, '..', 'shared', 'bench')].find(
  (d) => d && existsSync(join(d, 'mock-upstream.mjs')) && existsSync(join(d, 'null-gateway.mjs')),
);

/**
 * The mock's profiles, each with the null proxy in front of it: `fast` answers at once (load and
 * CPU scenarios), `slow` waits 20 ms before answering (issue 19 T1), `streams` sends 100 content
 * chunks 50 ms apart (T3).
 */
export const MOCKS = {
  fast: { port: 19100, nullPort: 19090, flags: [] },
  slow: { port: 19101, nullPort: 19092, flags: ['--latency=20'] },
  streams: { port: 19102, nullPort: 19093, flags: ['--chunks=100', '--chunk-delay=50'] },
};
export const PORTS = {
  floor: 19091,
  router: 19080,
  routerPg: 19081,
  routerBatched: 19082,
  routerBefore: 19083,
  routerWorkers: 19084,
  portkey: 18787,
};

const origin = (port) => `http://127.0.0.1:${port}`;

/** Builds dist/ when the router's build is missing. */
export function ensureBuilt() {
  if (existsSync(join(root, 'dist', 'apps', 'router', 'main.js'))) return;
  console.log('building dist/ …');
  const b = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) throw new Error('npm run build failed');
}

/** A fresh directory under the OS temp dir, removed at the end. */
export function scratchDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A fresh PostgreSQL database on DATABASE_URL's server (dropped at the end), or null without it. */
export async function scratchDatabase(prefix = 'atp_bench') {
  if (!process.env.DATABASE_URL) return null;
  const { default: pg } = await import('pg');
  const name = `${prefix}_${Date.now().toString(36)}`;
  const sql = async (q) => {
    const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await c.connect();
    try {
      await c.query(q);
    } finally {
      await c.end();
    }
  };
  await sql(`CREATE DATABASE ${name}`);
  onCleanup(() => sql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  const u = new URL(process.env.DATABASE_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A fresh Redis key prefix; the keys written under it are deleted at the end. */
export function scratchRedisPrefix() {
  const prefix = `atp-bench-${Date.now().toString(36)}:`;
  onCleanup(async () => {
    const { default: Redis } = await import('ioredis');
    const redis = new Redis(process.env.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await redis.unlink(...keys);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  });
  return prefix;
}

/** Starts the mock in `profile` and the null proxy in front of it; both as targets. */
export async function startReference(profile) {
  const { port, nullPort, flags } = MOCKS[profile];
  const mock = SHARED
    ? start(`mock-${profile}`, [join(SHARED, 'mock-upstream.mjs'), `--port=${port}`, ...flags, '--quiet'])
    : start(`mock-${profile}`, [join(here, 'mock-upstream.mjs'), `--port=${port}`, ...flags]);
  const nul = SHARED
    ? start(`null-${profile}`, [join(SHARED, 'null-gateway.mjs')], {
        env: { NULL_GW_PORT: String(nullPort), NULL_GW_UPSTREAM: origin(port) },
      })
    : start(`null-${profile}`, [join(here, 'null-proxy.mjs'), String(nullPort), String(port)]);
  await waitFor(`${origin(port)}/health`, { child: mock });
  await waitFor(`${origin(nullPort)}/health`, { child: nul });
  return {
    port,
    direct: { name: 'direct', base: `${origin(port)}/v1`, headers: {}, pid: mock.pid, child: mock },
    null: { name: 'null', base: `${origin(nullPort)}/v1`, headers: {}, pid: nul.pid, child: nul },
  };
}

/** The bare NestJS + Fastify pass-through (non-streaming only) in front of the mock on `upstreamPort`. */
export async function startFloor(upstreamPort) {
  const child = start('nest-floor', [
    join(here, 'nest-floor.mjs'),
    String(PORTS.floor),
    origin(upstreamPort),
  ]);
  await waitFor(`${origin(PORTS.floor)}/health`, { child });
  return { name: 'nest-floor', base: `${origin(PORTS.floor)}/v1`, headers: {}, pid: child.pid, child };
}

/**
 * The router's backends for this run: the embedded default (SQLite, in-process limits) and, when
 * DATABASE_URL and REDIS_URL are both set, PostgreSQL (a scratch database) + Redis (a fresh key
 * prefix). Each keeps its data directory and database across restarts within the run.
 */
export async function routerBackends({ embeddedOnly = false } = {}) {
  const backends = [
    {
      name: 'router',
      port: PORTS.router,
      dir: scratchDir('atp-bench-'),
      env: { DATABASE_URL: '', REDIS_URL: '' },
    },
  ];
  if (process.env.DATABASE_URL && process.env.REDIS_URL && !embeddedOnly)
    backends.push({
      name: 'router-pg-redis',
      port: PORTS.routerPg,
      dir: scratchDir('atp-bench-pg-'),
      env: {
        DATABASE_URL: await scratchDatabase(),
        REDIS_URL: process.env.REDIS_URL,
        REDIS_KEY_PREFIX: scratchRedisPrefix(),
      },
    });
  return backends;
}

/** The router built in another checkout (BENCH_BEFORE_DIR), embedded, as a backend; null without it. */
export function beforeBackend() {
  const dir = process.env.BENCH_BEFORE_DIR;
  if (!dir) return null;
  const main = join(dir, 'dist', 'apps', 'router', 'main.js');
  if (!existsSync(main)) throw new Error(`BENCH_BEFORE_DIR has no ${main}: run npm run build there`);
  return {
    name: 'router-before',
    port: PORTS.routerBefore,
    dir: scratchDir('atp-bench-before-'),
    env: { DATABASE_URL: '', REDIS_URL: '' },
    main,
    cwd: dir,
  };
}

/**
 * Starts the router on `backend` with the mock on `upstreamPort` as its OpenAI upstream, as
 * `npm start` would, with request logging at INFO, audit on, and the bench tenant's limits and
 * budget set (see {@link benchKey}). Resolves with the router as a target.
 */
export async function startRouter(backend, upstreamPort, extraEnv = {}) {
  const child = start(backend.name, [backend.main ?? join(root, 'dist', 'apps', 'router', 'main.js')], {
    cwd: backend.cwd ?? root,
    env: {
      OPENAI_API_KEY: 'sk-bench',
      OPENAI_BASE_URL: `${origin(upstreamPort)}/v1`,
      LOG_LEVEL: process.env.LOG_LEVEL || 'INFO',
      NODE_ENV: 'development',
      AUDIT_LOG_ENABLED: 'true',
      ATP_DATA_DIR: backend.dir,
      PORT: String(backend.port),
      ...backend.env,
      ...routerEnvOverrides(),
      ...extraEnv,
    },
  });
  const url = origin(backend.port);
  await waitFor(`${url}/health`, { child });
  if (extraEnv.ATP_ROUTER_WORKERS > 1) await sleep(3000); // the other workers start after the first
  const key = await benchKey(backend.dir, url);
  return {
    name: backend.name,
    base: `${url}/v1`,
    headers: { authorization: `Bearer ${key}` },
    pid: child.pid,
    tree: extraEnv.ATP_ROUTER_WORKERS > 1,
    child,
  };
}

/**
 * BENCH_ROUTER_ENV: settings for every router a run starts, as `NAME=value` pairs separated by
 * spaces (`BENCH_ROUTER_ENV="ATP_DURABLE_RECORDS=false"`: what the durable records cost).
 */
export function routerEnvOverrides() {
  const pairs = (process.env.BENCH_ROUTER_ENV ?? '').split(/\s+/).filter(Boolean);
  return Object.fromEntries(
    pairs.map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 1) throw new Error(`BENCH_ROUTER_ENV: expected NAME=value, got ${pair}`);
      return [pair.slice(0, eq), pair.slice(eq + 1)];
    }),
  );
}

/**
 * The development key of a router started on `dataDir`, after setting its tenant's limits and
 * budget high enough never to refuse a bench request: every request still goes through the rate,
 * token, concurrency and budget checks (reserve, then settle).
 */
async function benchKey(dataDir, url) {
  const credsFile = join(dataDir, 'dev-credentials.json');
  for (let i = 0; i < 100 && !existsSync(credsFile); i++) await sleep(100);
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

/** Portkey (BENCH_PORTKEY_DIR: a copy of shared/bench with `npm ci` done) routed to the mock on `upstreamPort`; null without it. */
export async function startPortkey(upstreamPort) {
  const dir = process.env.BENCH_PORTKEY_DIR;
  if (!dir) return null;
  const child = start(
    'portkey',
    [
      '--import',
      './loopback-guard.mjs',
      'node_modules/@portkey-ai/gateway/build/start-server.js',
      `--port=${PORTS.portkey}`,
      '--headless',
    ],
    { env: { TRUSTED_CUSTOM_HOSTS: '127.0.0.1' }, cwd: dir },
  );
  await sleep(3000);
  return {
    name: 'portkey',
    base: `${origin(PORTS.portkey)}/v1`,
    headers: {
      authorization: 'Bearer sk-mock',
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': `${origin(upstreamPort)}/v1`,
    },
    pid: child.pid,
    child,
  };
}

/** Stops the targets' processes (routers between phases). */
export async function stopTargets(targets) {
  await Promise.all(targets.map((t) => stop(t.child)));
}
