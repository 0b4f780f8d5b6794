#!/usr/bin/env node
// The console's API with a large tenant: starts the built router (dist/) on a fresh PostgreSQL
// database, seeds BENCH_ROWS usage rows (default 1,000,000, over 30 days) and BENCH_AUDIT_ROWS
// audit events into the development tenant with generate_series, signs in to the console and
// times each console API call BENCH_CALLS times (default 20), one at a time. Loopback only;
// stops the router and drops its database at the end.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node bench/console.mjs
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import pg from 'pg';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const AUDIT_ROWS = Number(process.env.BENCH_AUDIT_ROWS ?? 200_000);
const CALLS = Number(process.env.BENCH_CALLS ?? 20);
const PORT = Number(process.env.BENCH_PORT ?? 18_480);
const base = process.env.DATABASE_URL;
if (!base?.startsWith('postgres')) {
  console.error('set DATABASE_URL to a PostgreSQL server (a database atp_console_bench is created there)');
  process.exit(2);
}
const dbName = `atp_console_bench_${process.pid}`;
const admin = new pg.Client({ connectionString: base });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const url = new URL(base);
url.pathname = `/${dbName}`;
const dataDir = mkdtempSync(join(tmpdir(), 'atp-console-bench-'));
const router = spawn(process.execPath, ['dist/apps/router/main.js'], {
  env: {
    ...process.env,
    DATABASE_URL: url.toString(),
    REDIS_URL: process.env.REDIS_URL ?? '',
    ATP_DATA_DIR: dataDir,
    PORT: String(PORT),
    LOG_LEVEL: 'ERROR',
    NODE_ENV: 'development',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const origin = `http://127.0.0.1:${PORT}`;

async function screenshot(path, apiKey) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--no-first-run',
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.goto(`${origin}/console`);
    await page.getByLabel('API key').fill(apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-kpi="requests"]').waitFor({ timeout: 30_000 });
    await page.getByLabel('Period').selectOption('30d');
    await page.locator('[aria-busy="false"] [data-kpi="requests"]').waitFor({ timeout: 30_000 });
    await page.screenshot({ path });
    console.log(`screenshot: ${path}`);
  } finally {
    await browser.close();
  }
}

async function cleanup() {
  router.kill('SIGTERM');
  await new Promise((r) => router.once('exit', r));
  // BENCH_KEEP_DB=1 keeps the seeded database for EXPLAIN ANALYZE (drop it yourself afterwards).
  if (process.env.BENCH_KEEP_DB === '1') console.log(`kept database ${dbName}`);
  else await admin.query(`DROP DATABASE IF EXISTS ${dbName}`);
  await admin.end();
  rmSync(dataDir, { recursive: true, force: true });
}

try {
  for (let i = 0; ; i++) {
    if (i > 300) throw new Error('the router did not start');
    const ok = await fetch(`${origin}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const page = await fetch(`${origin}/console`);
  if (page.status !== 200)
    throw new Error(`/console answered ${page.status}: is the console built (npm run build)?`);
  const creds = JSON.parse(readFileSync(join(dataDir, 'dev-credentials.json'), 'utf8'));
  const db = new pg.Client({ connectionString: url.toString() });
  await db.connect();
  const [{ id: devKeyId }] = (
    await db.query('SELECT id FROM api_keys WHERE tenant_id = $1', [creds.tenant_id])
  ).rows;
  let t = Date.now();
  // Ten keys (the dev key and nine others), five models on three providers, four routes, 2% failures.
  await db.query(
    `INSERT INTO usage_records
     SELECT gen_random_uuid()::text, $1,
       CASE WHEN g % 10 = 0 THEN $2 ELSE '00000000-0000-4000-8000-00000000000' || (g % 10) END,
       'api_key:bench', 'chat', (ARRAY['auto','fast','cheap','best'])[1 + g % 4],
       (ARRAY['openai','openai','anthropic','anthropic','google'])[1 + g % 5],
       (ARRAY['gpt-4o-mini','gpt-4o','claude-3-5-haiku-latest','claude-sonnet-4-5','gemini-2.0-flash'])[1 + g % 5],
       100 + g % 50, 50 + g % 30, 150 + g % 50 + g % 30, 0.00001 * (1 + g % 7), 200 + g % 500, NULL,
       CASE WHEN g % 50 = 0 THEN 502 ELSE 200 END, CASE WHEN g % 50 = 0 THEN 'error' ELSE 'ok' END,
       g % 20 = 0, false, g % 3 = 0, 1 + (g % 50 = 0)::int, 'req-' || g,
       now() - (g * (2592000.0 / $3)) * interval '1 second'
     FROM generate_series(1, $3) g`,
    [creds.tenant_id, devKeyId, ROWS],
  );
  const seededUsage = Date.now() - t;
  t = Date.now();
  await db.query(
    `INSERT INTO audit_events (event_id, tenant_id, seq, occurred_at, actor_type, actor_id, credential_id, action,
       resource_type, resource_id, outcome, status_code, request_id, source_ip, pii_summary, hash_key_id, prev_hash, hash)
     SELECT gen_random_uuid(), $1, 1000000000 + g, now() - (g * (2592000.0 / $2)) * interval '1 second', 'api_key',
       'api_key:bench', NULL, 'chat.completion', 'llm_call', 'route=auto', CASE WHEN g % 20 = 0 THEN 'denied' ELSE 'success' END,
       CASE WHEN g % 20 = 0 THEN 429 ELSE 200 END, 'req-' || g, NULL, NULL, 'bench', repeat('0', 64), repeat('0', 64)
     FROM generate_series(1, $2) g`,
    [creds.tenant_id, AUDIT_ROWS],
  );
  const seededAudit = Date.now() - t;
  await db.query('VACUUM ANALYZE usage_records');
  await db.query('VACUUM ANALYZE usage_rollups');
  await db.query('VACUUM ANALYZE audit_events');
  const rollups = (
    await db.query('SELECT count(*)::int AS n FROM usage_rollups WHERE tenant_id = $1', [creds.tenant_id])
  ).rows[0].n;
  await db.end();
  console.log(
    `seeded ${ROWS} usage rows in ${(seededUsage / 1000).toFixed(1)} s (rollup trigger included; ${rollups} rollup rows), ` +
      `${AUDIT_ROWS} audit events in ${(seededAudit / 1000).toFixed(1)} s`,
  );

  const signIn = await fetch(`${origin}/console/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ api_key: creds.api_key }),
  });
  if (!signIn.ok) throw new Error(`sign-in failed: ${signIn.status}`);
  const cookie = signIn.headers.get('set-cookie').split(';')[0];
  const iso = (msAgo) => new Date(Date.now() - msAgo).toISOString();
  const DAY = 86_400_000;
  const get = async (path) => {
    const res = await fetch(`${origin}/console/api/${path}`, { headers: { cookie } });
    const body = await res.json();
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
    return body;
  };
  const firstPage = await get('requests?limit=50');
  const calls = {
    'overview 24h (hourly)': `overview?start=${iso(DAY)}`,
    'overview 7d (daily)': `overview?start=${iso(7 * DAY)}`,
    'overview 30d (daily)': `overview?start=${iso(30 * DAY)}`,
    'overview 7d (hourly)': `overview?start=${iso(7 * DAY)}&granularity=hour`,
    'requests 24h, page 1': 'requests?limit=50',
    'requests 24h, page 2 (cursor)': `requests?limit=50&cursor=${firstPage.next_cursor}`,
    'requests 30d, by key': `requests?limit=50&start=${iso(30 * DAY)}&api_key_id=00000000-0000-4000-8000-000000000003`,
    'requests 30d, by model': `requests?limit=50&start=${iso(30 * DAY)}&model=gemini-2.0-flash`,
    'requests 30d, failed only': `requests?limit=50&start=${iso(30 * DAY)}&status=error`,
    'requests 30d, by request id': `requests?start=${iso(30 * DAY)}&request_id=req-777777`,
    keys: 'keys',
    limits: 'limits',
    'audit page 1': 'audit?limit=50',
    'audit, action filter': 'audit?limit=50&action=chat.completion',
    providers: 'providers',
    session: 'session',
  };
  // BENCH_SCREENSHOT=docs/console-overview.png: the README's picture of the overview, from this data.
  if (process.env.BENCH_SCREENSHOT) await screenshot(process.env.BENCH_SCREENSHOT, creds.api_key);
  const rows = [];
  for (const [name, path] of Object.entries(calls)) {
    await get(path); // warm-up (not counted)
    const times = [];
    for (let i = 0; i < CALLS; i++) {
      const start = performance.now();
      await get(path);
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    const q = (p) => times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)];
    rows.push({ name, p50: q(0.5), p95: q(0.95), max: times[times.length - 1] });
  }
  console.log(`\n| console API call (${ROWS} usage rows, ${CALLS} calls each) | p50 ms | p95 ms | max ms |`);
  console.log('|---|---:|---:|---:|');
  for (const r of rows)
    console.log(`| ${r.name} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.max.toFixed(1)} |`);
  const worst = Math.max(...rows.map((r) => r.p95));
  console.log(`\nworst p95: ${worst.toFixed(1)} ms (${worst < 300 ? 'under' : 'OVER'} 300 ms)`);
} finally {
  await cleanup();
}
