import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Client } from 'pg';
import { type FakeUpstream, startFakeUpstream } from '../../apps/router/test/governance-helpers';
import { readDevCredentials } from '../auth-helpers';
import {
  createTestEnv,
  freePort,
  type RunningProcess,
  startProcess,
  stopProcess,
  type TestEnv,
  usingPostgres,
  usingRedis,
  waitForStatus,
} from '@app/testing';

/**
 * ATP_ROUTER_WORKERS=2 (the built dist/, as deployed on a 2-CPU Cloud Run instance): two worker
 * processes share the port, /metrics answers for both, a dead worker is replaced, and SIGTERM
 * drains both and flushes every usage row before exit 0.
 */
const suite = usingPostgres && usingRedis ? describe : describe.skip;

function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One request on its own connection (so the primary hands each to the next worker). */
function post(url: string, key: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', connection: 'close' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

function metricSum(text: string, name: string, match: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(name) && l.includes(match))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

suite('router with ATP_ROUTER_WORKERS=2', () => {
  let upstream: FakeUpstream;
  let testEnv: TestEnv;
  let router: RunningProcess;
  let url: string;
  let key: string;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    testEnv = await createTestEnv({
      OPENAI_API_KEY: 'sk-fake-openai',
      OPENAI_BASE_URL: upstream.openaiBaseUrl,
      JWT_SECRET_KEY: `workers-${randomBytes(24).toString('hex')}`,
      LOG_LEVEL: 'WARNING',
      ATP_ROUTER_WORKERS: '2',
    });
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    router = startProcess(['dist/apps/router/main.js'], { ...testEnv.env, PORT: String(port) });
    const status = await waitForStatus(`${url}/ready`, (s) => s === 200, 60_000);
    if (status !== 200) throw new Error(`router did not become ready: ${router.stderr.join('')}`);
    await waitFor('two workers', () => childPids(router.child.pid!).length === 2);
    await waitFor('the workers to listen', () => router.stdout.join('').includes('2 workers listening'));
    key = readDevCredentials(testEnv.dataDir).api_key;
  }, 90_000);

  afterAll(async () => {
    await stopProcess(router);
    await upstream?.close();
    await testEnv?.cleanup();
  });

  const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] };

  it('serves on one port from two processes; /metrics on either worker counts all requests', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 40 }, () => post(`${url}/v1/chat/completions`, key, chat)),
    );
    expect(statuses.every((s) => s === 200)).toBe(true);
    // Every scrape reaches one worker; each must report the sum over both.
    for (let i = 0; i < 4; i++) {
      const text = await (await fetch(`${url}/metrics`, { headers: { connection: 'close' } })).text();
      expect(
        metricSum(text, 'http_server_requests_seconds_count', 'route="/v1/chat/completions",status="200"'),
      ).toBe(40);
    }
  }, 60_000);

  it('a worker that dies is replaced and the service keeps answering', async () => {
    await new Promise((r) => setTimeout(r, 1200)); // usage rows are flushed every 500 ms
    const [victim] = childPids(router.child.pid!);
    process.kill(victim, 'SIGKILL');
    await waitFor(
      'a replacement worker',
      () => {
        const pids = childPids(router.child.pid!);
        return pids.length === 2 && !pids.includes(victim);
      },
      30_000,
    );
    const listening = () => router.stdout.join('').split('ATP router listening').length - 1;
    await waitFor('the replacement to listen', () => listening() >= 3, 30_000);
    const statuses = await Promise.all(
      Array.from({ length: 10 }, () => post(`${url}/v1/chat/completions`, key, chat)),
    );
    expect(statuses.every((s) => s === 200)).toBe(true);
  }, 60_000);

  it('SIGTERM: both workers drain and flush their usage rows, then exit 0', async () => {
    const inFlight = Promise.all(
      Array.from({ length: 20 }, () => post(`${url}/v1/chat/completions`, key, chat)),
    );
    await new Promise((r) => setTimeout(r, 20));
    router.child.kill('SIGTERM');
    const statuses = await inFlight.catch(() => [] as number[]);
    const { code } = await router.exited;
    expect(code).toBe(0);
    const served = statuses.filter((s) => s === 200).length;
    const db = new Client({ connectionString: testEnv.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query<{ n: string }>(
        "SELECT COUNT(*) AS n FROM usage_records WHERE endpoint = 'chat' AND status = 200",
      );
      // 40 + 10 before, plus every request of the burst that got its 200
      expect(Number(rows[0].n)).toBeGreaterThanOrEqual(50 + served);
    } finally {
      await db.end();
    }
  }, 60_000);
});
