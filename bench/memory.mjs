#!/usr/bin/env node
// Memory gateway load test: PUT, GET (hot keys) and search, each at C connections for DURATION
// seconds, against a gateway that is ALREADY running (this script starts nothing). Loopback only.
//
//   node bench/memory.mjs [--url http://127.0.0.1:8000] [--key atp_…] [--duration 10] [--connections 50]
//   (or BENCH_URL, BENCH_API_KEY, DURATION, CONNECTIONS; the key defaults to .atp/dev-credentials.json)
//
// The key needs memory:read and memory:write. The bench writes into a fresh namespace
// `bench-<random>` and deletes it at the end. Prints p50/p99 latency and ops/s per operation.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { arg } from './lib/proc.mjs';

function defaultKey() {
  const file = join(process.env.ATP_DATA_DIR || '.atp', 'dev-credentials.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')).api_key;
  } catch {
    return undefined;
  }
}

const base = new URL(arg('url', process.env.BENCH_URL || 'http://127.0.0.1:8000'));
const key = arg('key', process.env.BENCH_API_KEY || defaultKey());
const DURATION = Math.max(1, Math.min(Number(arg('duration', process.env.DURATION || 10)), 60));
const CONNECTIONS = Math.max(1, Math.min(Number(arg('connections', process.env.CONNECTIONS || 50)), 500));
const KEYS = 1000;
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];

if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(base.hostname)) {
  console.error(`refusing ${base.origin}: this bench runs against loopback only (127.0.0.1, localhost, ::1)`);
  process.exit(2);
}
if (!key) {
  console.error('no API key: pass --key atp_… (memory:read + memory:write) or set BENCH_API_KEY');
  process.exit(2);
}

const ns = `bench-${randomBytes(4).toString('hex')}`;
const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
const valueOf = (i) => ({
  text: `record ${i} ${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]} notes about item ${i}`,
  n: i,
});

async function call(method, path, body) {
  const res = await Promise.race([
    fetch(new URL(path, base), {
      method,
      headers: body === undefined ? { authorization: headers.authorization } : headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
    sleep(10_000, undefined, { ref: false }).then(() => {
      throw new Error(`${method} ${path} timed out after 10 s`);
    }),
  ]);
  if (!res.ok && res.status !== 404) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res;
}

async function seed() {
  let next = 0;
  const worker = async () => {
    while (next < KEYS) {
      const i = next++;
      await call('PUT', `/v1/memory/${ns}/k${i}`, { value: valueOf(i), tags: [WORDS[i % WORDS.length]] });
    }
  };
  await Promise.all(Array.from({ length: 10 }, worker));
}

function run(title, request) {
  let i = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: base.origin,
        connections: CONNECTIONS,
        duration: DURATION,
        headers,
        requests: [{ setupRequest: (req) => ({ ...req, ...request(i++) }) }],
      },
      (err, result) => (err ? reject(err) : resolve({ title, result })),
    );
    process.once('SIGINT', () => instance.stop());
  });
}

function row({ title, result }) {
  const ok = result['2xx'];
  return {
    op: title,
    'ops/s': Math.round(result.requests.average),
    'p50 ms': result.latency.p50,
    'p99 ms': result.latency.p99,
    requests: result.requests.total,
    '2xx': ok,
    'non-2xx': result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

async function main() {
  await call('GET', '/health');
  console.log(
    `memory bench: ${base.origin}, namespace ${ns}, ${CONNECTIONS} connections, ${DURATION} s per operation`,
  );
  const seedStart = performance.now();
  await seed();
  console.log(`seeded ${KEYS} records in ${Math.round(performance.now() - seedStart)} ms`);
  const results = [];
  try {
    results.push(
      await run('PUT', (i) => ({
        method: 'PUT',
        path: `/v1/memory/${ns}/k${i % KEYS}`,
        body: JSON.stringify({ value: valueOf(i) }),
      })),
    );
    // Hot keys: a small set, so the read-through cache serves most GETs.
    results.push(await run('GET', (i) => ({ method: 'GET', path: `/v1/memory/${ns}/k${(i * 13) % 50}` })));
    results.push(
      await run('search', (i) => ({
        method: 'POST',
        path: `/v1/memory/${ns}/search`,
        body: JSON.stringify({
          query: `${WORDS[i % WORDS.length]} ${WORDS[(i * 3) % WORDS.length]}`,
          limit: 10,
        }),
      })),
    );
  } finally {
    await call('DELETE', `/v1/memory/${ns}`).catch((err) => console.error(`cleanup failed: ${err.message}`));
  }
  console.table(results.map(row));
  const bad = results.filter(({ result }) => result.non2xx || result.errors);
  if (bad.length) {
    console.error(`some requests failed: ${bad.map((b) => b.title).join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
