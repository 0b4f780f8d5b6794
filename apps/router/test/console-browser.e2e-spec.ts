import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import request from 'supertest';
import { bootApp, type BootedApp, createTestEnv, SERVICES_LABEL, type TestEnv } from '@app/testing';
import { readDevCredentials } from '../../../test/auth-helpers';
import { AppModule } from '../src/app.module';
import { CHROMIUM, CHROMIUM_ARGS, ensureConsoleBuilt } from './console-helpers';
import { type FakeUpstream, startFakeUpstream, upstreamEnv } from './governance-helpers';

const ROOT = join(__dirname, '..', '..', '..');
/** Screenshots of every page (gitignored); the path is printed at the end. */
const ARTIFACTS = join(ROOT, 'artifacts', 'console');

/**
 * The console in a real headless Chromium (Debian's, driven by playwright-core), against a router
 * whose OpenAI upstream is a fake (priced models, so spend moves): sign in with the dev key, the
 * overview's numbers against the API's, a key created/used/revoked, a limit that produces a 429,
 * the audit chain verified, sign-out. Screenshots of each page go to artifacts/console/.
 */
describe(`console in a browser (${SERVICES_LABEL})`, () => {
  let upstream: FakeUpstream;
  let testEnv: TestEnv;
  let booted: BootedApp;
  let browser: Browser;
  let page: Page;
  let devKey: string;
  const shots: string[] = [];

  const chat = (key: string, content = 'hello') =>
    request(booted.url)
      .post('/v1/chat/completions')
      .set('authorization', `Bearer ${key}`)
      .send({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] });
  const shot = async (name: string) => {
    const path = join(ARTIFACTS, `${SERVICES_LABEL.replace('+', '-')}-${name}.png`);
    await page.screenshot({ path, fullPage: true });
    shots.push(path);
  };
  const open = async (hash: string, ready: string) => {
    await page.goto(`${booted.url}/console#/${hash}`);
    await page.locator(ready).first().waitFor();
  };
  const kpi = async (name: string) =>
    Number(await page.locator(`[data-kpi="${name}"]`).getAttribute('data-value'));
  const apiOverview = async () =>
    page.evaluate(
      async () => (await fetch('/console/api/overview')).json() as Promise<Record<string, never>>,
    );

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `${CHROMIUM} is missing: apt-get install -y chromium (the browser tests need Debian's Chromium)`,
      );
    ensureConsoleBuilt();
    mkdirSync(ARTIFACTS, { recursive: true });
    upstream = await startFakeUpstream();
    testEnv = await createTestEnv(upstreamEnv(upstream));
    booted = await bootApp('router', AppModule, testEnv.env);
    devKey = readDevCredentials(booted).api_key;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    // The page must never fetch anything from outside the router.
    page.on('request', (r) => {
      if (!r.url().startsWith(booted.url) && !r.url().startsWith('data:'))
        throw new Error(`external request ${r.url()}`);
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await booted?.close();
    await upstream?.close();
    await testEnv?.cleanup();
    if (shots.length) process.stdout.write(`console screenshots: ${ARTIFACTS}\n`);
  });

  it('walks the console: sign in, overview vs API, key lifecycle, limit → 429, verify chain, sign out', async () => {
    // Seeded usage: five priced calls with the dev key.
    for (let i = 0; i < 5; i++) await chat(devKey, `seed ${i}`).expect(200);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) errors.push(m.text());
    });

    // Sign in with the dev key.
    await page.goto(`${booted.url}/console`);
    await page.getByLabel('API key').fill(devKey);
    await shot('signin');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-kpi="requests"]').waitFor();
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === 'atp_console')).toEqual(
      expect.objectContaining({ httpOnly: true, sameSite: 'Strict', path: '/console' }),
    );
    expect(
      await page.evaluate<string>('JSON.stringify({ ...localStorage }) + document.cookie'),
    ).not.toContain('atp_');

    // The overview shows what the APIs return for the seeded usage.
    const usage = await request(booted.url)
      .get('/v1/usage')
      .set('authorization', `Bearer ${devKey}`)
      .expect(200);
    expect(usage.body.totals.requests).toBe(5);
    expect(await kpi('requests')).toBe(usage.body.totals.requests);
    expect(await kpi('tokens')).toBe(usage.body.totals.total_tokens);
    expect(await kpi('cost')).toBeCloseTo(usage.body.totals.cost_usd, 10);
    expect(usage.body.totals.cost_usd).toBeGreaterThan(0);
    const api = (await apiOverview()) as unknown as { totals: { requests: number; error_rate: number } };
    expect(await kpi('error_rate')).toBe(api.totals.error_rate);
    await expect(page.locator('[data-kpi="requests"] .kpi-value').textContent()).resolves.toBe('5');
    expect(await page.locator('svg.chart').count()).toBeGreaterThanOrEqual(5);
    const spendBefore = await kpi('month_spend');
    await shot('overview');

    // Create a key: the secret is shown once, with a copy button.
    await open('keys', 'form[aria-labelledby="create-title"]');
    await page.getByLabel('Name').fill('browser-key');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secretBox = page.locator('input[data-secret]');
    await secretBox.waitFor();
    const secret = await secretBox.inputValue();
    expect(secret).toMatch(/^atp_/);
    await expect(page.getByRole('button', { name: 'Copy' }).isVisible()).resolves.toBe(true);
    await page.locator('tr[data-key-name="browser-key"]').waitFor();
    await shot('keys-created');
    await page.getByRole('button', { name: /I have stored it/ }).click();
    await open('keys', 'tr[data-key-name="browser-key"]');
    expect(await page.content()).not.toContain(secret); // shown once, never again

    // Use it: the call appears in Requests, and the month's spend moves by its cost.
    const used = await chat(secret, 'from the new key').expect(200);
    const cost = Number(used.headers['x-atp-cost-usd']);
    expect(cost).toBeGreaterThan(0);
    const keyId = await page.locator('tr[data-key-name="browser-key"]').getAttribute('data-key-id');
    await open('requests', 'form[role="search"]');
    await page.getByLabel('Request id').fill(String(used.headers['x-request-id']));
    await page.getByRole('button', { name: 'Search' }).click();
    const row = page.locator(`tr[data-request-id="${used.headers['x-request-id']}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-key-id')).toBe(keyId);
    expect(Number(await row.locator('[data-cost]').getAttribute('data-cost'))).toBeCloseTo(cost, 10);
    await page.getByLabel('Request id').fill('');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('tr[data-request-id]').nth(5).waitFor();
    await shot('requests');
    await open('overview', '[data-kpi="month_spend"]');
    expect(await kpi('month_spend')).toBeCloseTo(spendBefore + cost, 10);
    expect(await kpi('requests')).toBe(6);
    await open('keys', 'tr[data-key-name="browser-key"]');
    expect(
      Number(await page.locator('tr[data-key-name="browser-key"] [data-spend]').getAttribute('data-spend')),
    ).toBeCloseTo(cost, 10);

    // Revoke it, with confirmation; the next call with it fails.
    await page.getByRole('button', { name: 'Revoke browser-key' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke key' }).click();
    await page.locator('tr[data-key-name="browser-key"]').waitFor({ state: 'detached' });
    await waitFor(async () => (await chat(secret)).status === 401, 6000);

    // Edit a limit: 2 requests per minute for the tenant, then a 429.
    await open('limits', 'form[aria-labelledby="limits-title"]');
    await page.getByLabel('Requests per minute').fill('-1');
    await page.getByRole('button', { name: 'Save limits' }).click();
    await expect(page.locator('#limits-status [role="alert"]').textContent()).resolves.toContain(
      'whole number',
    );
    await page.getByLabel('Requests per minute').fill('2');
    await page.getByRole('button', { name: 'Save limits' }).click();
    await page.locator('#limits-status [role="status"]').waitFor();
    await shot('limits');
    const limited = await waitFor(async () => {
      const res = await chat(devKey);
      return res.status === 429 ? res : null;
    }, 10_000);
    expect(limited.body.error.code).toBe('rate_limit_exceeded');
    await request(booted.url)
      .put('/v1/admin/limits')
      .set('authorization', `Bearer ${devKey}`)
      .send({})
      .expect(200);

    // Verify the audit chain.
    await open('audit', 'table');
    await page.getByRole('button', { name: 'Verify chain' }).click();
    const verdict = page.locator('#verify-result [data-verified]');
    await verdict.waitFor();
    expect(await verdict.getAttribute('data-verified')).toBe('true');
    expect(Number(await verdict.getAttribute('data-checked'))).toBeGreaterThan(5);
    await expect(verdict.textContent()).resolves.toMatch(/^Chain intact: \d+ events verified/);
    await shot('audit');

    await open('providers', 'tr[data-model="gpt-4o-mini"]');
    await expect(page.locator('tr[data-model="gpt-4o-mini"]').textContent()).resolves.toContain('closed');
    await shot('providers');

    // Phone width and the dark theme.
    await page.setViewportSize({ width: 390, height: 844 });
    await open('overview', '[data-kpi="requests"]');
    await shot('overview-phone');
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.getByRole('button', { name: /light and dark/ }).click();
    await open('overview', '[data-kpi="requests"]');
    await shot('overview-dark');

    // Sign out: back to the form, and the session no longer works.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    const after = await page.evaluate(async () => (await fetch('/console/api/session')).status);
    expect(after).toBe(401);
    expect(errors).toEqual([]);
  }, 120_000);
});

async function waitFor<T>(check: () => Promise<T | null | false>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
