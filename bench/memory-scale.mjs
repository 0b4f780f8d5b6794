#!/usr/bin/env node
// The memory gateway at scale (issue 19, target 5): one tenant, one namespace, notes of 20–40
// words, grown to 1,000 / 10,000 / 100,000 records on PostgreSQL + Redis. At each size: PUT
// (overwriting random records), GET (random records), search for a word in ~98% of the records
// and search for a word in one record, each at CONNECTIONS connections for DURATION seconds; then
// the same rows written and read by a plain node-postgres script (the floor, bench/memory-scale-data.mjs).
//
//   DATABASE_URL=postgres://… REDIS_URL=redis://… node bench/memory-scale.mjs [--json out.json]
//     [--sizes 1000,10000,100000] [--duration 3] [--connections 10]
//
// Starts the gateway from dist/ (building it when missing) on a scratch database (dropped at the
// end) and a fresh Redis key prefix. The records are seeded through the API (PUT at 32
// connections) of a second gateway that commits without waiting for the WAL flush and writes no
// audit events: the memory rows are exactly what the gateway writes. Loopback only.
// Targets: T5a search p99 at the largest size ≤ 2× at the smallest (both searches), T5b PUT and
// T5c GET ops/s at the largest ≥ 0.8× at the smallest; the floor ratio is reported beside them.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import pg from 'pg';
import { arg, cpuSeconds, onCleanup, runMain, start, waitFor } from './lib/proc.mjs';
import { root, scratchDatabase, scratchDir, scratchRedisPrefix } from './lib/stack.mjs';
import { COMMON_WORD, keyOf, noteOf, PlainFloor, uniqueWord } from './memory-scale-data.mjs';

const SIZES = arg('sizes', '1000,10000,100000').split(',').map(Number);
const DURATION = Math.max(1, Math.min(Number(arg('duration', process.env.DURATION_MEMORY || 3)), 30));
const CONNECTIONS = Math.max(1, Math.min(Number(arg('connections', 10)), 100));
const SEED_CONNECTIONS = 32;
const JSON_OUT = arg('json', null);
const PORT = 18010;
const SEED_PORT = 18011;
const BASE = `http://127.0.0.1:${PORT}`;
const NAMESPACE = 'scale';

function writeJson(result) {
  if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(result, null, 2) + '\n');
}

/** The gateway from dist/ (built when missing) on `port`, sharing `dataDir` (its secrets, its dev key). */
async function startGateway({ databaseUrl, redisPrefix, dataDir, port, env = {} }) {
  const main = join(root, 'dist', 'apps', 'memory-gateway', 'main.js');
  if (!existsSync(main)) {
    const built = spawnSync('npx', ['nest', 'build', 'memory-gateway'], { cwd: root, stdio: 'inherit' });
    if (built.status !== 0) throw new Error('could not build the memory gateway');
  }
  const child = start(`memory-gateway:${port}`, [main], {
    cwd: root,
    env: {
      PORT: String(port),
      ATP_DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      REDIS_KEY_PREFIX: redisPrefix,
      LOG_LEVEL: 'WARNING',
      NODE_ENV: 'development',
      MEMORY_QUOTA_RECORDS: '10000000',
      MEMORY_QUOTA_BYTES: String(10 * 1024 ** 3),
      ...env,
    },
  });
  await waitFor(`http://127.0.0.1:${port}/health`, { child });
  const creds = join(dataDir, 'dev-credentials.json');
  for (let i = 0; i < 100 && !existsSync(creds); i++) await new Promise((r) => setTimeout(r, 100));
  const { api_key: key, tenant_id: tenantId } = JSON.parse(readFileSync(creds, 'utf8'));
  return { key, tenantId, pid: child.pid };
}

/** CPU seconds used so far by each PostgreSQL backend serving the scratch database. */
async function backendCpu(pool) {
  const { rows } = await pool.query('SELECT pid FROM pg_stat_activity WHERE datname = current_database()');
  // A backend gone since (NaN) counts as 0, as it did before it started.
  return new Map(rows.map((r) => [r.pid, cpuSeconds(r.pid) || 0]));
}

/** Backend CPU seconds used between two {@link backendCpu} readings. */
function backendCpuSince(before, after) {
  let total = 0;
  for (const [pid, cpu] of after) total += cpu - (before.get(pid) ?? 0);
  return total;
}

/** autocannon at `connections` for `duration` s (or `amount` requests); request(i) gives each request. */
function load({ key, connections, duration, amount, url = BASE }, request) {
  let i = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections,
        ...(amount ? { amount } : { duration }),
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        requests: [{ setupRequest: (req) => ({ ...req, ...request(i++) }) }],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

const put = (i, version) => ({
  method: 'PUT',
  path: `/v1/memory/${NAMESPACE}/${keyOf(i)}`,
  body: JSON.stringify({ value: { text: noteOf(i, version) } }),
});
const search = (query) => ({
  method: 'POST',
  path: `/v1/memory/${NAMESPACE}/search`,
  body: JSON.stringify({ query, limit: 10 }),
});
const randomBelow = (n) => Math.floor(Math.random() * n);

async function seed(key, from, to) {
  if (to <= from) return;
  const url = `http://127.0.0.1:${SEED_PORT}`;
  const result = await load({ key, connections: SEED_CONNECTIONS, amount: to - from, url }, (n) =>
    put(from + n, 0),
  );
  if (result.non2xx || result.errors)
    throw new Error(`seeding failed: ${result.non2xx} non-2xx, ${result.errors} errors`);
}

/** The searches answer what the data holds: 10 records for the common word, the one record for a unique word. */
async function checkSearches(key, size) {
  const ask = async (query) => {
    const res = await fetch(`${BASE}/v1/memory/${NAMESPACE}/search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query, limit: 10 }),
    });
    return (await res.json()).results?.map((r) => r.key);
  };
  const common = await ask(COMMON_WORD);
  const expected = Array.from({ length: 11 }, (_, i) => i)
    .filter((i) => i % 50 !== 7)
    .slice(0, 10)
    .map(keyOf);
  if (JSON.stringify(common) !== JSON.stringify(expected))
    throw new Error(`search "${COMMON_WORD}" answered ${common}`);
  const i = size - 1;
  const unique = await ask(uniqueWord(i));
  if (JSON.stringify(unique) !== JSON.stringify([keyOf(i)]))
    throw new Error(`search "${uniqueWord(i)}" answered ${unique}`);
}

const row = (size, op, r) => ({
  size,
  op,
  'ops/s': r.opsPerSecond,
  'p50 ms': r.p50,
  'p99 ms': r.p99,
  requests: r.requests,
  errors: r.errors,
});
const fromCannon = (r) => ({
  opsPerSecond: Math.round(r.requests.total / (r.duration || DURATION)),
  p50: r.latency.p50,
  p99: r.latency.p99,
  requests: r.requests.total,
  errors: r.non2xx + r.errors + r.timeouts,
});

async function measureSize({ key, pid, pool }, size, floor) {
  const opts = { key, connections: CONNECTIONS, duration: DURATION };
  let version = 1;
  const rows = [];
  /**
   * One operation's load, with the CPU time per request of the gateway and of the database
   * backends (steadier than ops/s on a shared machine, and where the time goes).
   */
  const measure = async (op, run) => {
    const cpu = cpuSeconds(pid);
    const db = await backendCpu(pool);
    const result = await run();
    const perOp = (seconds) => Math.round((seconds * 1e6) / Math.max(1, result.requests));
    rows.push({
      ...row(size, op, result),
      'gw CPU µs/op': op.startsWith('floor') ? null : perOp(cpuSeconds(pid) - cpu),
      'db CPU µs/op': perOp(backendCpuSince(db, await backendCpu(pool))),
    });
  };
  const gateway = async (request) => fromCannon(await load(opts, request));
  await measure('PUT', () => gateway(() => put(randomBelow(size), version++)));
  await measure('GET', () =>
    gateway(() => ({ method: 'GET', path: `/v1/memory/${NAMESPACE}/${keyOf(randomBelow(size))}` })),
  );
  await measure('search common', () => gateway(() => search(COMMON_WORD)));
  await measure('search unique', () => gateway(() => search(uniqueWord(randomBelow(size)))));
  const plain = { connections: CONNECTIONS, seconds: DURATION };
  await floor.prime(CONNECTIONS);
  await measure('floor PUT', () => floor.measureWrites(plain));
  await measure('floor GET', () => floor.measureReads(size, plain));
  await floor.clean();
  return rows;
}

function targets(table) {
  const small = SIZES[0];
  const large = SIZES[SIZES.length - 1];
  const at = (size, op) => table.find((r) => r.size === size && r.op === op);
  const ratio = (a, b) => Math.round((a / b) * 100) / 100;
  const p99s = ['search common', 'search unique'].map((op) => ({
    op,
    ratio: ratio(at(large, op)['p99 ms'], at(small, op)['p99 ms']),
    from: at(small, op)['p99 ms'],
    to: at(large, op)['p99 ms'],
  }));
  const worst = Math.max(...p99s.map((p) => p.ratio));
  const throughput = (id, op) => {
    const value = ratio(at(large, op)['ops/s'], at(small, op)['ops/s']);
    const floorOf = (size) => ratio(at(size, op)['ops/s'], at(size, `floor ${op}`)['ops/s']);
    return {
      id,
      name: `memory ${op} ops/s at ${large} records / at ${small} (${CONNECTIONS} connections, PostgreSQL + Redis)`,
      value,
      limit: 0.8,
      unit: 'x',
      pass: value >= 0.8,
      detail:
        `${at(small, op)['ops/s']} → ${at(large, op)['ops/s']} ops/s; plain node-postgres floor ` +
        `${at(small, `floor ${op}`)['ops/s']} → ${at(large, `floor ${op}`)['ops/s']} ops/s; ` +
        `gateway/floor ${floorOf(small)}x at ${small}, ${floorOf(large)}x at ${large}`,
    };
  };
  return [
    {
      id: 'T5a',
      name: `memory search p99 at ${large} records / at ${small} (common and unique word, worse of the two)`,
      value: worst,
      limit: 2,
      unit: 'x',
      pass: worst <= 2,
      detail: p99s.map((p) => `${p.op} ${p.from} → ${p.to} ms (${p.ratio}x)`).join('; '),
    },
    throughput('T5b', 'PUT'),
    throughput('T5c', 'GET'),
  ];
}

async function main() {
  if (!process.env.DATABASE_URL || !process.env.REDIS_URL) {
    const detail = 'not run: needs DATABASE_URL and REDIS_URL (target 5 is measured on PostgreSQL + Redis)';
    console.error(`memory-scale: ${detail}`);
    writeJson({ skipped: true, targets: [], table: [], detail });
    return 2;
  }
  const startedAt = performance.now();
  const databaseUrl = await scratchDatabase('atp_memscale');
  const redisPrefix = scratchRedisPrefix();
  const dataDir = scratchDir('atp-memscale-');
  const { key, tenantId, pid } = await startGateway({ databaseUrl, redisPrefix, dataDir, port: PORT });
  // Seeding goes through a second gateway (same database, Redis, secrets) whose sessions commit
  // without waiting for the WAL flush, and with no audit events: the same code path and memory
  // rows, without 100,000 fsync waits and audit rows.
  const seeder = await startGateway({
    databaseUrl,
    redisPrefix,
    dataDir,
    port: SEED_PORT,
    env: { PGOPTIONS: '-c synchronous_commit=off', AUDIT_LOG_ENABLED: 'false' },
  });
  const pool = new pg.Pool({ connectionString: databaseUrl, max: CONNECTIONS });
  onCleanup(() => pool.end());
  const floor = new PlainFloor(pool, { tenantId, namespace: NAMESPACE });
  console.log(
    `memory at scale: sizes ${SIZES.join(', ')}, ${CONNECTIONS} connections, ${DURATION} s per operation, PostgreSQL + Redis`,
  );
  const table = [];
  let seeded = 0;
  for (const size of SIZES) {
    const t = performance.now();
    const cpu = cpuSeconds(seeder.pid);
    await seed(key, seeded, size);
    const perPut = ((cpuSeconds(seeder.pid) - cpu) * 1e6) / Math.max(1, size - seeded);
    console.log(
      `seeded ${size - seeded} records through the API in ${((performance.now() - t) / 1000).toFixed(1)} s ` +
        `(gateway CPU ${Math.round(perPut)} µs per PUT)`,
    );
    seeded = size;
    await checkSearches(key, size);
    const rows = await measureSize({ key, pid, pool }, size, floor);
    console.table(rows);
    table.push(...rows);
  }
  const result = {
    targets: targets(table),
    table,
    seconds: Math.round((performance.now() - startedAt) / 1000),
  };
  for (const t of result.targets)
    console.log(`${t.id} ${t.pass ? 'PASS' : 'FAIL'} ${t.value}${t.unit} (limit ${t.limit}): ${t.detail}`);
  console.log(`memory at scale took ${result.seconds} s`);
  writeJson(result);
}

// The gateways stop, and the database, Redis keys and data directory go, on every exit path
// (also when the bench runner stops this script with SIGTERM).
runMain(() =>
  main().catch((err) => {
    writeJson({ targets: [], table: [], error: err.message });
    throw err;
  }),
);
