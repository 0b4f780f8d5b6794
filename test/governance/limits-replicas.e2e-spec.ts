import { randomBytes } from 'node:crypto';
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
 * Limits hold across replicas: two router processes (the built dist/, as deployed) share one
 * PostgreSQL and one Redis; a key limited to 100 requests per minute gets exactly 100 of 400
 * requests fired at once across both.
 */
const suite = usingPostgres && usingRedis ? describe : describe.skip;

suite('rate limits across two router processes sharing Redis', () => {
  let upstream: FakeUpstream;
  let testEnv: TestEnv;
  const routers: RunningProcess[] = [];
  const urls: string[] = [];

  beforeAll(async () => {
    upstream = await startFakeUpstream({ behaviour: { latencyMs: 20 } });
    testEnv = await createTestEnv({
      OPENAI_API_KEY: 'sk-fake-openai',
      OPENAI_BASE_URL: upstream.openaiBaseUrl,
      JWT_SECRET_KEY: `replicas-${randomBytes(24).toString('hex')}`,
      LOG_LEVEL: 'WARNING',
    });
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      routers.push(startProcess(['dist/apps/router/main.js'], { ...testEnv.env, PORT: String(port) }));
      urls.push(`http://127.0.0.1:${port}`);
      // one at a time: the first one runs the migrations and writes the dev credentials
      const status = await waitForStatus(`${urls[i]}/ready`, (s) => s === 200, 40_000);
      if (status !== 200) throw new Error(`router ${i} did not become ready: ${routers[i].stderr.join('')}`);
    }
  }, 90_000);
  afterAll(async () => {
    await Promise.all(routers.map((p) => stopProcess(p)));
    await upstream?.close();
    await testEnv?.cleanup();
  });

  /**
   * One burst with a fresh key: 400 concurrent requests alternating between the replicas. Every
   * guarantee is asserted on every burst; returns how many of the 100 each replica admitted.
   */
  async function burst(attempt: number): Promise<[number, number]> {
    const dev = readDevCredentials(testEnv.dataDir);
    const created = await fetch(`${urls[0]}/v1/admin/api-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${dev.api_key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `limited-${attempt}`, scopes: ['llm'], limits: { rpm: 100 } }),
    });
    expect(created.status).toBe(201);
    const { key } = (await created.json()) as { key: string };
    // both replicas know the key before the burst (key verification is not what is measured)
    for (const url of urls) {
      const res = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);
    }
    const upstreamBefore = upstream.requests.length;

    const fire = (i: number) =>
      fetch(`${urls[i % 2]}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `hi ${i}` }] }),
        signal: AbortSignal.timeout(30_000),
      }).then(async (res) => ({
        replica: i % 2,
        status: res.status,
        code: res.status === 429 ? ((await res.json()) as { error: { code: string } }).error.code : null,
        retryAfter: res.headers.get('retry-after'),
      }));
    const results = await Promise.all(Array.from({ length: 400 }, (_, i) => fire(i)));

    // admission never fell back to fail-open (that would admit requests uncounted)
    expect(routers.map((p) => p.stdout.join('') + p.stderr.join('')).join('')).not.toContain(
      'limits store unreachable',
    );
    const ok = results.filter((r) => r.status === 200);
    const limited = results.filter((r) => r.status === 429);
    expect(ok).toHaveLength(100);
    expect(limited).toHaveLength(300);
    expect(new Set(limited.map((r) => r.code))).toEqual(new Set(['rate_limit_exceeded']));
    expect(limited.every((r) => Number(r.retryAfter) >= 1)).toBe(true);
    expect(upstream.requests.length - upstreamBefore).toBe(100);
    return [ok.filter((r) => r.replica === 0).length, ok.filter((r) => r.replica === 1).length];
  }

  it('a key limited to 100 requests per minute: exactly 100 of 400 concurrent requests succeed', async () => {
    // Both replicas must serve part of the 100 (the limit is shared, not per process). Which
    // replica reads its requests first is up to the scheduler: on a CI box busy with other suites
    // one replica can take all 100 before the other has read a request (seen once in CI, with
    // accept lanes taking in up to 33 connections a turn). So up to three bursts, each with a fresh
    // key and every guarantee above asserted, until one shows both replicas admitting.
    const splits: [number, number][] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const split = await burst(attempt);
      splits.push(split);
      if (split[0] > 0 && split[1] > 0) break;
    }
    const last = splits[splits.length - 1];
    expect({ splits, both: last[0] > 0 && last[1] > 0 }).toMatchObject({ both: true });
  }, 90_000);
});
