import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { bootApp, type BootedApp, createTestEnv, SERVICES_LABEL, type TestEnv } from '@app/testing';
import { AppModule } from '../src/app.module';
import { AdmissionService } from '../src/limits/admission.service';
import { UsageRecorder } from '../src/usage/usage-recorder';
import {
  adversarialCostUsd,
  adversarialUsage,
  BOUND_ROUTING_YAML,
  BUDGET_PROMPTS,
  chatBody,
} from './budget-bound-helpers';
import { type FakeUpstream, startFakeUpstream, tenantWithKey } from './governance-helpers';

/**
 * A budget is never overspent, whatever the prompt is made of: the reservation is an upper bound
 * of what the vendor can bill (UTF-8 bytes + overheads + max_tokens), and the fake vendor bills
 * the most a real tokenizer could (one token per byte). A tenant whose budget fits 10.5 calls
 * fires 60 at once; the recorded spend stays within the budget for each kind of prompt.
 */
describe(`budget reservations are an upper bound (${SERVICES_LABEL})`, () => {
  let upstream: FakeUpstream;
  let testEnv: TestEnv;
  let booted: BootedApp;

  beforeAll(async () => {
    upstream = await startFakeUpstream({ behaviour: adversarialUsage });
    testEnv = await createTestEnv({
      OPENAI_API_KEY: 'sk-fake-openai',
      OPENAI_BASE_URL: upstream.openaiBaseUrl,
    });
    const routing = join(testEnv.dataDir, 'routing.yaml');
    writeFileSync(routing, BOUND_ROUTING_YAML);
    testEnv.env.ATP_ROUTING_CONFIG = routing;
    booted = await bootApp('router', AppModule, testEnv.env);
  });
  afterAll(async () => {
    await booted?.close();
    await upstream?.close();
    await testEnv?.cleanup();
  });

  it.each(Object.keys(BUDGET_PROMPTS))(
    '%s prompt: 60 concurrent calls against a budget of 10.5 calls never spend more than the budget',
    async (kind) => {
      const prompt = BUDGET_PROMPTS[kind];
      const cost = adversarialCostUsd(prompt);
      const budget = Number((10.5 * cost).toFixed(6));
      const { tenantId, key } = await tenantWithKey(booted, { monthlyBudgetUsd: budget });

      const results = await Promise.all(
        Array.from({ length: 60 }, () =>
          request(booted.url)
            .post('/v1/chat/completions')
            .set('authorization', `Bearer ${key}`)
            .send(chatBody(prompt)),
        ),
      );
      const ok = results.filter((r) => r.status === 200);
      for (const r of results.filter((x) => x.status !== 200)) {
        expect(r.status).toBe(429);
        expect(r.body.error.code).toBe('budget_exceeded');
      }
      // every admitted call was billed the adversarial count (the vendor's count is what settles)
      for (const r of ok) expect(r.body.usage.total_tokens * 0.001).toBeCloseTo(cost, 9);

      await booted.app.get(UsageRecorder).flush();
      const usage = await request(booted.url)
        .get('/v1/usage?group_by=model')
        .set('authorization', `Bearer ${key}`)
        .expect(200);
      const spent = usage.body.totals.cost_usd as number;
      const status = await waitForValue(
        () => booted.app.get(AdmissionService).budgetStatus(tenantId),
        (s) => s?.reservedUsd === 0,
      );
      // eslint-disable-next-line no-console
      console.log(`budget ${kind}: ${ok.length}/60 admitted, spent $${spent.toFixed(6)} of $${budget}`);
      expect(spent).toBeCloseTo(ok.length * cost, 9);
      expect(spent).toBeLessThanOrEqual(budget);
      expect(status?.spentUsd).toBeCloseTo(spent, 9);
      // the bound is tight enough that the budget is still usable: most of the 10 whole calls get in
      expect(ok.length).toBeGreaterThanOrEqual(kind === 'english' || kind === 'code' ? 8 : 9);
      expect(ok.length).toBeLessThanOrEqual(10);
    },
  );
});

async function waitForValue<T>(get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}
