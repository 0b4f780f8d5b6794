import { register } from 'prom-client';
import request from 'supertest';
import { KV_STORE, type KvStore } from '@app/cache';
import { bootApp, type BootedApp, createTestEnv, SERVICES_LABEL, type TestEnv } from '@app/testing';
import { AppModule } from '../src/app.module';
import { AdmissionService } from '../src/limits/admission.service';
import { budgetMonth } from '../src/limits/budget-math';
import { budgetKey } from '../src/limits/limits-keys';
import { UsageRecorder } from '../src/usage/usage-recorder';
import {
  type FakeUpstream,
  startFakeUpstream,
  tenantWithKey,
  writeRoutingConfig,
} from './governance-helpers';

/**
 * Budget totals survive losing the limits store: with Redis the month's total is deleted (as a
 * Redis restart would), on the embedded default the process is restarted; either way the next
 * request rebuilds the total from the usage rows in the database.
 */
describe(`budget totals are rebuilt from usage rows (${SERVICES_LABEL})`, () => {
  let upstream: FakeUpstream;
  let testEnv: TestEnv;
  let booted: BootedApp;

  beforeAll(async () => {
    upstream = await startFakeUpstream({ behaviour: { usage: { prompt: 3, completion: 1 } } });
    testEnv = await createTestEnv({
      OPENAI_API_KEY: 'sk-fake-openai',
      OPENAI_BASE_URL: upstream.openaiBaseUrl,
      ATP_BUDGET_METRICS_PER_TENANT: 'true',
    });
    testEnv.env.ATP_ROUTING_CONFIG = writeRoutingConfig(testEnv.dataDir);
    register.clear();
    booted = await bootApp('router', AppModule, testEnv.env);
  });
  afterAll(async () => {
    await booted?.close();
    await upstream?.close();
    await testEnv?.cleanup();
  });

  const chat = (key: string) =>
    request(booted.url)
      .post('/v1/chat/completions')
      .set('authorization', `Bearer ${key}`)
      .send({ model: 'budget-model', messages: [{ role: 'user', content: 'hi' }] });

  it('spends $0.03, loses the total, and counts on from $0.03', async () => {
    const { tenantId, key } = await tenantWithKey(booted, { monthlyBudgetUsd: 1 });
    for (let n = 0; n < 3; n++) await chat(key).expect(200);
    const admission = () => booted.app.get(AdmissionService);
    await waitUntil(async () => (await admission().budgetStatus(tenantId))?.reservedUsd === 0);
    expect(await admission().budgetStatus(tenantId)).toEqual({ spentUsd: 0.03, reservedUsd: 0 });
    await booted.app.get(UsageRecorder).flush();

    const kv = booted.app.get<KvStore>(KV_STORE);
    if (kv.kind === 'redis') {
      await kv.del(budgetKey(tenantId, 'tenant', null, budgetMonth(Date.now())));
      expect(await admission().budgetStatus(tenantId)).toBeNull();
    } else {
      await booted.close();
      register.clear();
      booted = await bootApp('router', AppModule, testEnv.env);
      expect(await admission().budgetStatus(tenantId)).toBeNull();
    }

    await chat(key).expect(200);
    await waitUntil(async () => (await admission().budgetStatus(tenantId))?.reservedUsd === 0);
    expect(await admission().budgetStatus(tenantId)).toEqual({ spentUsd: 0.04, reservedUsd: 0 });
    const metrics = (await request(booted.url).get('/metrics')).text;
    expect(metrics).toContain(`atp_budget_spend_usd{tenant="${tenantId}"} 0.04`);
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
