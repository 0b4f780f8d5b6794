import { applyPii } from '@app/pii';
import {
  createTestEnv,
  freePort,
  mixedPiiText,
  type RunningProcess,
  SERVICES_LABEL,
  startProcess,
  stopProcess,
  type TestEnv,
  waitForStatus,
} from '@app/testing';
import { readProcessEnv } from '@app/config';
import { readDevCredentials } from '../auth-helpers';

/**
 * Heavy PII work never blocks the event loop (issue 15). Each built service (dist/, as deployed)
 * runs in its own process; this process fires 4 concurrent requests carrying 1 MB of mixed PII
 * and meanwhile asks GET /health every ~10 ms. With the PII scan on the service's event loop,
 * /health waits for whole scans (p99 of 0.7 s and more); with the worker pool it answers at once.
 *
 * Run it with ATP_PII_WORKERS=0 in the environment to see the loop-bound behaviour fail it.
 */
const MB = 1_000_000;
const workers = readProcessEnv().ATP_PII_WORKERS;

interface Sampled {
  p99: number;
  max: number;
  samples: number;
}

/** GET /health back to back (10 ms apart) until `done` settles; latencies in ms. */
async function sampleHealth(base: string, done: Promise<unknown>): Promise<Sampled> {
  let finished = false;
  void done.finally(() => (finished = true));
  const latencies: number[] = [];
  while (!finished) {
    const started = performance.now();
    const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(30_000) });
    await res.arrayBuffer();
    latencies.push(performance.now() - started);
    await new Promise((r) => setTimeout(r, 10));
  }
  latencies.sort((a, b) => a - b);
  const p99 = latencies[Math.max(0, Math.ceil(latencies.length * 0.99) - 1)] ?? 0;
  return { p99: Math.round(p99), max: Math.round(latencies.at(-1) ?? 0), samples: latencies.length };
}

async function quietP99(base: string): Promise<Sampled> {
  return sampleHealth(base, new Promise((r) => setTimeout(r, 1500)));
}

/**
 * The bound: 50 ms (the target) above what /health takes on this box with no PII load
 * at all. The baseline absorbs a shared 2-core machine's own scheduling noise; with the scan on
 * the loop the p99 is a whole scan (hundreds of ms), so the test still fails on the defect.
 */
function expectLoopFree(loaded: Sampled, quiet: Sampled, label: string): void {
  process.stdout.write(
    `[pii event loop] ${label} on ${SERVICES_LABEL}, ATP_PII_WORKERS=${workers ?? 'default'}: /health p99 ${loaded.p99} ms ` +
      `(max ${loaded.max}, ${loaded.samples} samples; quiet p99 ${quiet.p99} ms)\n`,
  );
  expect(loaded.samples).toBeGreaterThan(10);
  expect(loaded.p99).toBeLessThanOrEqual(50 + quiet.p99);
}

async function startService(app: 'memory-gateway' | 'router', env: Record<string, string>) {
  const port = await freePort();
  const proc = startProcess([`dist/apps/${app}/main.js`], {
    ...env,
    PORT: String(port),
    ...(workers !== undefined ? { ATP_PII_WORKERS: workers } : {}),
  });
  const base = `http://127.0.0.1:${port}`;
  const status = await waitForStatus(`${base}/ready`, (s) => s === 200, 60_000);
  if (status !== 200) throw new Error(`${app} did not become ready: ${proc.stderr.join('')}`);
  return { proc, base };
}

describe(`PII work off the event loop (built services, ${SERVICES_LABEL})`, () => {
  const texts = [1, 2, 3, 4].map((seed) => mixedPiiText(MB, seed));
  const expected = texts.map((t) => applyPii(t, 'redact'));
  let testEnv: TestEnv;
  let proc: RunningProcess | undefined;
  let base: string;
  let auth: Record<string, string>;

  beforeAll(async () => {
    testEnv = await createTestEnv({ LOG_LEVEL: 'WARNING' });
    ({ proc, base } = await startService('memory-gateway', testEnv.env));
    auth = {
      authorization: `Bearer ${readDevCredentials(testEnv.dataDir).api_key}`,
      'content-type': 'application/json',
    };
  }, 90_000);
  afterAll(async () => {
    await stopProcess(proc);
    await testEnv?.cleanup();
  });

  const post = (path: string, body: string, method = 'POST') =>
    fetch(`${base}${path}`, { method, headers: auth, body, signal: AbortSignal.timeout(60_000) }).then(
      async (res) => ({ status: res.status, body: await res.arrayBuffer() }),
    );
  const json = (r: { body: ArrayBuffer }) => JSON.parse(Buffer.from(r.body).toString('utf8'));

  it('memory gateway: /health stays fast while 4 × 1 MB of mixed PII is redacted', async () => {
    const bodies = texts.map((text) => JSON.stringify({ text }));
    const quiet = await quietP99(base);
    const load = Promise.all(bodies.map((b) => post('/v1/pii/redact', b)));
    const loaded = await sampleHealth(base, load);
    const results = await load;
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    // The worker's answer is the library's, byte for byte.
    results.forEach((r, i) => expect(json(r).text).toBe(expected[i].text));
    expectLoopFree(loaded, quiet, 'redact ×4');
  }, 180_000);

  it('memory gateway: the same for memory PUTs of large values and /v1/pii/detect', async () => {
    const quiet = await quietP99(base);
    const load = Promise.all([
      post('/v1/memory/big/a', JSON.stringify({ value: texts[0].slice(0, 1_000_000 - 100) }), 'PUT'),
      post('/v1/memory/big/b', JSON.stringify({ value: { notes: [texts[1].slice(0, 900_000)] } }), 'PUT'),
      post('/v1/pii/detect', JSON.stringify({ text: texts[2] })),
      post('/v1/pii/detect', JSON.stringify({ text: texts[3] })),
    ]);
    const loaded = await sampleHealth(base, load);
    const results = await load;
    expect(results.map((r) => r.status)).toEqual([201, 201, 200, 200]);
    expect(json(results[0]).pii.action).toBe('redacted');
    expect(json(results[2]).entities).toHaveLength(expected[2].entities.length);
    expectLoopFree(loaded, quiet, 'put ×2 + detect ×2');
  }, 180_000);

  it('a text beyond the per-request cap is 413 in the envelope, before any scan', async () => {
    const res = await post('/v1/pii/detect', JSON.stringify({ text: 'a'.repeat(1_000_001) }));
    expect({ status: res.status, error: json(res).error }).toEqual({
      status: 413,
      error: {
        message: expect.stringContaining('1000000'),
        type: expect.any(String),
        code: 'text_too_large',
        param: 'text',
      },
    });
  });
});

describe(`router prompt PII policy off the event loop (built router, ${SERVICES_LABEL})`, () => {
  const prompts = [5, 6, 7, 8].map((seed) => mixedPiiText(MB, seed));
  let testEnv: TestEnv;
  let proc: RunningProcess | undefined;
  let base: string;
  let auth: Record<string, string>;

  beforeAll(async () => {
    testEnv = await createTestEnv({ LOG_LEVEL: 'WARNING' });
    ({ proc, base } = await startService('router', testEnv.env));
    auth = {
      authorization: `Bearer ${readDevCredentials(testEnv.dataDir).api_key}`,
      'content-type': 'application/json',
    };
    const limits = await fetch(`${base}/v1/admin/limits`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ pii_mode: 'redact' }),
    });
    expect(limits.status).toBe(200);
  }, 90_000);
  afterAll(async () => {
    await stopProcess(proc);
    await testEnv?.cleanup();
  });

  it('/health stays fast while 4 prompts of 1 MB mixed PII are redacted', async () => {
    const bodies = prompts.map((content) =>
      JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 5, messages: [{ role: 'user', content }] }),
    );
    const quiet = await quietP99(base);
    const load = Promise.all(
      bodies.map((body) =>
        fetch(`${base}/v1/chat/completions`, {
          method: 'POST',
          headers: auth,
          body,
          signal: AbortSignal.timeout(60_000),
        }).then(async (res) => ({
          status: res.status,
          pii: res.headers.get('x-atp-pii'),
          body: await res.text(),
        })),
      ),
    );
    const loaded = await sampleHealth(base, load);
    const results = await load;
    expect(results.map((r) => [r.status, r.pii])).toEqual(Array(4).fill([200, 'redacted']));
    expectLoopFree(loaded, quiet, 'chat ×4');
  }, 180_000);
});
