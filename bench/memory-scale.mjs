#!/usr/bin/env node
// The memory gateway at scale (issue 19, target 5): one tenant, one namespace, notes of 20–40
// words, grown to 1,000 / 10,000 / 100,000 records on PostgreSQL + Redis. At each size: PUT
// (overwriting random records), GET (random records), search for a word in ~98% of the records
// and search for a word in one record, each at CONNECTIONS connections for DURATION seconds; then
// the same rows written and read by a plain node-postgres script (the floor, bench/memory-scale-data.mjs).
//
//   DATABASE_URL=postgres://… REDIS_URL=redis://… node bench/memory-scale.mjs [--json out.json]
//     [--sizes 1000,10000,100000] [--duration 3] [--connections 10] [--seed direct|api]
//
// Starts the gateway from dist/ (building it when missing) on a scratch database (dropped at the
// end) and a fresh Redis key prefix. The records are seeded by the gateway's own code in this
// process (bench/memory-seed.mjs: PII handling, sealing and indexing, the rows a creating PUT
// writes and its cache entry, many records a transaction), or with `--seed api` through the API
// of a second gateway (PUT at 32 connections, ~2.5x slower). Every measured operation starts
// with a CHECKPOINT (see checkpoint()). Besides ops/s and latency, each row gives the gateway's
// and the database's CPU per operation and the server's WAL, full-page images, blocks read and
// buffers written by backends per operation (cluster-wide counters), and the cache hit rate.
// Loopback only.
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
import { openSeeder } from './memory-seed.mjs';

const SIZES = arg('sizes', '1000,10000,100000').split(',').map(Number);
const DURATION = Math.max(1, Math.min(Number(arg('duration', process.env.DURATION_MEMORY || 3)), 30));
const CONNECTIONS = Math.max(1, Math.min(Number(arg('connections', 10)), 100));
const SEED_CONNECTIONS = 32;
const JSON_OUT = arg('json', null);
const PORT = 18010;
const SEED_PORT = 18011;
const SEED = arg('seed', 'direct');
const BASE = `http://127.0.0.1:${PORT}`;
const NAMESPACE = 'scale';

function writeJson(result) {
  if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(result, null, 2) + '\n');
}

/** The environment of the gateway (and of the seeder, which opens what the gateway opens). */
function gatewayEnv({ databaseUrl, redisPrefix, dataDir, port }) {
  return {
    PORT: String(port),
    ATP_DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    REDIS_KEY_PREFIX: redisPrefix,
    LOG_LEVEL: 'WARNING',
    NODE_ENV: 'development',
    MEMORY_QUOTA_RECORDS: '10000000',
    MEMORY_QUOTA_BYTES: String(10 * 1024 ** 3),
  };
}

/** The gateway from dist/ (built when missing) on `port`, with its data in `dataDir` (its secrets, its dev key). */
async function startGateway({ env = {}, ...options }) {
  const main = join(root, 'dist', 'apps', 'memory-gateway', 'main.js');
  if (!existsSync(main)) {
    const built = spawnSync('npx', ['nest', 'build', 'memory-gateway'], { cwd: root, stdio: 'inherit' });
    if (built.status !== 0) throw new Error('could not build the memory gateway');
  }
  const child = start(`memory-gateway:${options.port}`, [main], {
    cwd: root,
    env: { ...gatewayEnv(options), ...env },
  });
  await waitFor(`http://127.0.0.1:${options.port}/health`, { child });
  const creds = join(options.dataDir, 'dev-credentials.json');
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

/**
 * The server's write-side counters (cluster-wide: pg_stat_wal, pg_stat_bgwriter): WAL written,
 * full-page images (the first change of a page after a checkpoint logs the whole 8 KiB page),
 * buffers a backend had to write itself to make room, and checkpoints.
 */
async function serverCounters(pool) {
  const { rows } = await pool.query(
    `SELECT w.wal_bytes::float8 AS wal_bytes, w.wal_fpi::float8 AS fpi,
       b.buffers_backend::float8 AS backend_writes, (b.checkpoints_timed + b.checkpoints_req)::float8 AS checkpoints,
       d.blks_read::float8 AS blks_read
     FROM pg_stat_wal w, pg_stat_bgwriter b, pg_stat_database d WHERE d.datname = current_database()`,
  );
  return rows[0];
}

/**
 * Every measured operation starts with a CHECKPOINT, at every size, for the gateway and the floor
 * alike: no checkpoint left running by the seeding (or by the operation before) writes its dirty
 * buffers during the measurement, and every page's first change after it logs a full-page image,
 * whatever the size. (Right after a checkpoint is the dearest point of PostgreSQL's checkpoint
 * cycle for writes to a large index; see bench/README, T5.) Needs a superuser or pg_checkpoint.
 */
let checkpointRefused = false;
async function checkpoint(pool) {
  if (checkpointRefused) return;
  try {
    await pool.query('CHECKPOINT');
  } catch (err) {
    checkpointRefused = true;
    console.warn(`memory-scale: no CHECKPOINT before each measurement (${err.message})`);
  }
}

/** The memory tables' and their indexes' sizes, beside shared_buffers. */
async function relationSizes(pool) {
  const { rows } = await pool.query(
    `SELECT CASE WHEN c.relkind = 'i' THEN t.relname || ' index ' || c.relname ELSE c.relname END AS name,
       pg_size_pretty(pg_relation_size(c.oid)) AS size
     FROM pg_class c LEFT JOIN pg_index i ON i.indexrelid = c.oid LEFT JOIN pg_class t ON t.oid = i.indrelid
     WHERE coalesce(t.relname, c.relname) LIKE 'memory_%' AND pg_relation_size(c.oid) > 1000000
     ORDER BY pg_relation_size(c.oid) DESC`,
  );
  const { rows: buffers } = await pool.query('SHOW shared_buffers');
  return `${rows.map((r) => `${r.name} ${r.size}`).join(', ')} (shared_buffers ${buffers[0].shared_buffers})`;
}

/** The gateway's record cache lookups so far, by result (its /metrics). */
async function cacheLookups() {
  const text = await (await fetch(`${BASE}/metrics`)).text();
  const count = (result) =>
    Number(
      new RegExp(`^atp_memory_cache_lookups_total\\{result="${result}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0,
    );
  return { hit: count('hit'), miss: count('miss') + count('bypass') };
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

/** `--seed api`: PUT at SEED_CONNECTIONS connections through the seeding gateway. */
async function seedThroughApi(key, from, to) {
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

async function measureSize({ key, pid, pool }, size, floor, warmUp) {
  const opts = { key, connections: CONNECTIONS, duration: DURATION };
  let version = 1;
  const rows = [];
  /**
   * One operation's load, with the CPU time per request of the gateway and of the database
   * backends (steadier than ops/s on a shared machine, and where the time goes).
   */
  const measure = async (op, run) => {
    await checkpoint(pool);
    const cpu = cpuSeconds(pid);
    const db = await backendCpu(pool);
    const server = await serverCounters(pool);
    const lookups = await cacheLookups();
    const result = await run();
    const cache = await cacheLookups();
    const hits = cache.hit - lookups.hit;
    const looked = hits + cache.miss - lookups.miss;
    const perOp = (seconds) => Math.round((seconds * 1e6) / Math.max(1, result.requests));
    const dbCpu = backendCpuSince(db, await backendCpu(pool));
    const after = await serverCounters(pool);
    const serverPerOp = (name, scale = 1) =>
      Math.round(((after[name] - server[name]) / scale / Math.max(1, result.requests)) * 10) / 10;
    rows.push({
      ...row(size, op, result),
      'gw CPU µs/op': op.startsWith('floor') ? null : perOp(cpuSeconds(pid) - cpu),
      'db CPU µs/op': perOp(dbCpu),
      'WAL KB/op': serverPerOp('wal_bytes', 1024),
      'FPI/op': serverPerOp('fpi'),
      'blks read/op': serverPerOp('blks_read'),
      'backend writes/op': serverPerOp('backend_writes'),
      checkpoints: after.checkpoints - server.checkpoints,
      'cache hit %': looked ? Math.round((hits / looked) * 100) : null,
    });
  };
  const gateway = async (request) => fromCannon(await load(opts, request));
  if (warmUp) {
    // The first size would otherwise meet a gateway whose code is not compiled yet (JIT) and
    // whose pools are empty; later sizes meet a warm one.
    const warm = { ...opts, duration: 1 };
    await load(warm, () => put(randomBelow(size), version++));
    await load(warm, () => ({ method: 'GET', path: `/v1/memory/${NAMESPACE}/${keyOf(randomBelow(size))}` }));
    await load(warm, () => search(COMMON_WORD));
  }
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
  const seed = await seeder({ databaseUrl, redisPrefix, dataDir, key, tenantId });
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
    await seed(seeded, size);
    console.log(
      `seeded ${size - seeded} records (${SEED}) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    await checkSeeded(key, seeded, size);
    seeded = size;
    console.log(`sizes: ${await relationSizes(pool)}`);
    await checkSearches(key, size);
    const rows = await measureSize({ key, pid, pool }, size, floor, size === SIZES[0]);
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

/**
 * `seed(from, to)` writes notes from … to - 1 as they are first written. `direct` (the default):
 * the gateway's own code in this process (bench/memory-seed.mjs); `api`: PUTs through a second
 * gateway (same database, Redis, secrets) whose sessions commit without waiting for the WAL flush
 * and write no audit events.
 */
async function seeder({ databaseUrl, redisPrefix, dataDir, key, tenantId }) {
  if (SEED === 'api') {
    await startGateway({
      databaseUrl,
      redisPrefix,
      dataDir,
      port: SEED_PORT,
      env: { PGOPTIONS: '-c synchronous_commit=off', AUDIT_LOG_ENABLED: 'false' },
    });
    return (from, to) => (to > from ? seedThroughApi(key, from, to) : undefined);
  }
  const env = { ...process.env, ...gatewayEnv({ databaseUrl, redisPrefix, dataDir, port: PORT }) };
  // Opened for each size and closed before its measurements: nothing of it runs beside the load.
  return async (from, to) => {
    if (to <= from) return;
    const direct = await openSeeder(env, tenantId);
    try {
      await direct.seed(NAMESPACE, from, to);
    } finally {
      await direct.close();
    }
  };
}

/** Seeded records read back through the gateway: decrypted, the note as written. */
async function checkSeeded(key, from, to) {
  for (const i of [from, Math.floor((from + to) / 2), to - 1]) {
    const res = await fetch(`${BASE}/v1/memory/${NAMESPACE}/${keyOf(i)}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const body = await res.json();
    if (res.status !== 200 || body.value?.text !== noteOf(i, 0) || body.version !== 1)
      throw new Error(`seeded record ${keyOf(i)} reads back as ${res.status} ${JSON.stringify(body)}`);
  }
}

// The gateways stop, and the database, Redis keys and data directory go, on every exit path
// (also when the bench runner stops this script with SIGTERM).
runMain(() =>
  main().catch((err) => {
    writeJson({ targets: [], table: [], error: err.message });
    throw err;
  }),
);
