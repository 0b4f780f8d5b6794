import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  adversarialCostUsd,
  adversarialUsage,
  BOUND_ROUTING_YAML,
  BUDGET_PROMPTS,
  chatBody,
} from '../../apps/router/test/budget-bound-helpers';
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
 * Budgets hold across replicas: two router processes (the built dist/) share one PostgreSQL and
 * one Redis. For each kind of prompt, a key whose budget fits 10.5 calls — at the most a real
 * tokenizer could bill (one token per UTF-8 byte) — fires 60 calls at once across both replicas;
 * the recorded spend never exceeds the budget.
 */
const suite = usingPostgres && usingRedis ? describe : describe.skip;

suite('budgets across two router processes sharing Redis and PostgreSQL', () => {
  let upstream: FakeUpstream;
  let testEnv: TestEnv;
  const routers: RunningProcess[] = [];
  const urls: string[] = [];
  let adminKey: string;

  beforeAll(async () => {
    upstream = await startFakeUpstream({ behaviour: adversarialUsage });
    testEnv = await createTestEnv({
      OPENAI_API_KEY: 'sk-fake-openai',
      OPENAI_BASE_URL: upstream.openaiBaseUrl,
      JWT_SECRET_KEY: `budget-replicas-${randomBytes(24).toString('hex')}`,
      LOG_LEVEL: 'WARNING',
    });
    const routing = join(testEnv.dataDir, 'routing.yaml');
    writeFileSync(routing, BOUND_ROUTING_YAML);
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      routers.push(
        startProcess(['dist/apps/router/main.js'], {
          ...testEnv.env,
          ATP_ROUTING_CONFIG: routing,
          PORT: String(port),
        }),
      );
      urls.push(`http://127.0.0.1:${port}`);
      // one at a time: the first one runs the migrations and writes the dev credentials
      const status = await waitForStatus(`${urls[i]}/ready`, (s) => s === 200, 40_000);
      if (status !== 200) throw new Error(`router ${i} did not become ready: ${routers[i].stderr.join('')}`);
    }
    adminKey = readDevCredentials(testEnv.dataDir).api_key;
  }, 90_000);
  afterAll(async () => {
    await Promise.all(routers.map((p) => stopProcess(p)));
    await upstream?.close();
    await testEnv?.cleanup();
  });

  it.each(Object.keys(BUDGET_PROMPTS))(
    '%s prompt: 60 concurrent calls over two replicas never spend more than a budget of 10.5 calls',
    async (kind) => {
      const prompt = BUDGET_PROMPTS[kind];
      const cost = adversarialCostUsd(prompt);
      const budget = Number((10.5 * cost).toFixed(6));
      const created = await fetch(`${urls[0]}/v1/admin/api-keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          name: `budget-${kind}`,
          scopes: ['llm'],
          limits: { monthly_budget_usd: budget },
        }),
      });
      expect(created.status).toBe(201);
      const { key, id: keyId } = (await created.json()) as { key: string; id: string };
      for (const url of urls) {
        const res = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
        expect(res.status).toBe(200);
      }

      const fire = (i: number) =>
        fetch(`${urls[i % 2]}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify(chatBody(prompt)),
          signal: AbortSignal.timeout(30_000),
        }).then(async (res) => ({
          replica: i % 2,
          status: res.status,
          body: (await res.json()) as { error?: { code: string }; usage?: { total_tokens: number } },
        }));
      const results = await Promise.all(Array.from({ length: 60 }, (_, i) => fire(i)));
      const ok = results.filter((r) => r.status === 200);
      for (const r of results.filter((x) => x.status !== 200)) {
        expect(r.status).toBe(429);
        expect(r.body.error?.code).toBe('budget_exceeded');
      }
      for (const r of ok) expect(r.body.usage!.total_tokens * 0.001).toBeCloseTo(cost, 9);

      // the usage rows are written in batches: wait until every admitted call has its row
      const spent = await waitForSpend(urls, adminKey, keyId, ok.length * cost);
      // eslint-disable-next-line no-console
      console.log(
        `budget replicas ${kind}: ${ok.length}/60 admitted ` +
          `(replica 0: ${ok.filter((r) => r.replica === 0).length}), spent $${spent.toFixed(6)} of $${budget}`,
      );
      expect(spent).toBeCloseTo(ok.length * cost, 9);
      expect(spent).toBeLessThanOrEqual(budget);
      expect(ok.length).toBeGreaterThanOrEqual(8);
      expect(ok.length).toBeLessThanOrEqual(10);
      expect(routers.map((p) => p.stdout.join('') + p.stderr.join('')).join('')).not.toContain(
        'limits store unreachable',
      );
    },
    60_000,
  );
});

/** The key's recorded spend; asks both replicas (each flushes its own batch of usage rows). */
async function waitForSpend(
  urls: string[],
  adminKey: string,
  keyId: string,
  expected: number,
  timeoutMs = 15_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let spent = 0;
    for (const url of urls) {
      const res = await fetch(`${url}/v1/usage?group_by=api_key`, {
        headers: { authorization: `Bearer ${adminKey}` },
      });
      const body = (await res.json()) as { data: { api_key: string; cost_usd: number }[] };
      spent = body.data.find((r) => r.api_key === keyId)?.cost_usd ?? 0;
    }
    if (Math.abs(spent - expected) < 1e-9 || Date.now() > deadline) return spent;
    await new Promise((r) => setTimeout(r, 200));
  }
}
