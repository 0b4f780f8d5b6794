// Helpers of the dependency-outage suites: the built services on a PostgreSQL and Redis of the
// test's own (libs/testing own-services), and a small load loop that counts answers.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type RunningProcess, startProcess, stopProcess, waitForStatus } from '@app/testing';

export interface Service {
  proc: RunningProcess;
  url: string;
  apiKey: string;
  tenantId: string;
  dataDir: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts dist/apps/<app>/main.js against the given PostgreSQL and Redis; resolves when /ready is 200. */
export async function startService(
  app: 'router' | 'memory-gateway',
  env: Record<string, string>,
): Promise<Service> {
  const dataDir = mkdtempSync(join(tmpdir(), `atp-outage-${app}-`));
  const port = await freePort();
  const full = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'INFO',
    ATP_DATA_DIR: dataDir,
    JWT_SECRET_KEY: `outage-${randomBytes(24).toString('hex')}`,
    ENCRYPTION_KEY: `t1:${randomBytes(32).toString('base64')}`,
    ATP_SHUTDOWN_GRACE_SECONDS: '2',
    REDIS_KEY_PREFIX: `atp-o-${randomBytes(4).toString('hex')}:`,
    PORT: String(port),
    ...env,
  };
  const proc = startProcess([`dist/apps/${app}/main.js`], full);
  const url = `http://127.0.0.1:${port}`;
  const ready = await waitForStatus(`${url}/ready`, (s) => s === 200, 60_000);
  if (ready !== 200) {
    await stopProcess(proc);
    throw new Error(`${app} did not become ready: ${proc.stderr.join('').slice(-2000)}`);
  }
  let creds: { api_key: string; tenant_id: string };
  try {
    creds = JSON.parse(readFileSync(join(dataDir, 'dev-credentials.json'), 'utf8')) as typeof creds;
  } catch (err) {
    await stopProcess(proc);
    throw err;
  }
  return {
    proc,
    url,
    apiKey: creds.api_key,
    tenantId: creds.tenant_id,
    dataDir,
    env: full,
    async stop() {
      await stopProcess(proc);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  status: number;
  ms: number;
  body: unknown;
  retryAfter: string | null;
}

/** One HTTP call; status 0 when the connection failed or `timeoutMs` passed. */
export async function call(
  url: string,
  init: { method?: string; token?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<Answer> {
  const started = performance.now();
  try {
    const res = await fetch(url, {
      method: init.method ?? 'GET',
      headers: {
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(init.timeoutMs ?? 30_000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return {
      status: res.status,
      ms: performance.now() - started,
      body,
      retryAfter: res.headers.get('retry-after'),
    };
  } catch {
    return { status: 0, ms: performance.now() - started, body: null, retryAfter: null };
  }
}

/** Runs `one` on `concurrency` loops until stopped; counts answers by status. */
export function loadLoop(one: (i: number) => Promise<Answer>, concurrency: number) {
  const byStatus = new Map<number, number>();
  const answers: Answer[] = [];
  let running = true;
  let n = 0;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      const a = await one(n++);
      byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
      answers.push(a);
      if (a.status === 0 || a.status >= 500) await new Promise((r) => setTimeout(r, 20));
    }
  });
  return {
    byStatus,
    answers,
    async stop() {
      running = false;
      await Promise.all(loops);
      return Object.fromEntries(byStatus);
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The process is still running (no exit of its own). */
export function alive(s: Service): boolean {
  return s.proc.child.exitCode === null && s.proc.child.signalCode === null;
}

/** Polls until `ok` returns true or the deadline passes; returns the last result. */
export async function eventually<T>(
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > deadline) return v;
    await sleep(200);
  }
}
