import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  REPO_ROOT,
  type RunningProcess,
  startProcess,
  stopProcess,
  usingPostgres,
  waitForStatus,
} from '@app/testing';
import {
  ChaosUpstream,
  chaosToolsAvailable,
  OwnPostgres,
  OwnRedis,
  platformJwt,
  rssMb,
} from './chaos-harness';

/**
 * The fault suite (issue 16): both services built (dist), on a PostgreSQL and a Redis of their
 * own, under steady load — chat as JSON and streamed (API key and JWT), memory PUT and GET —
 * while the suite breaks things: the upstream failing, Redis frozen and killed (refusing
 * connections until it is restarted), PostgreSQL fast- and immediate-stopped, the router
 * SIGKILLed and SIGTERMed with streams longer than its grace. Every answer is matched to its
 * usage row and audit event by request id, and every acknowledged memory write is read back.
 *
 * Bounded: ~2.5 minutes of scenarios plus boots. Loopback only.
 */
// It brings its own PostgreSQL and Redis, so it runs once: in the PostgreSQL + Redis pass (CI's
// `npm test` with ATP_REQUIRE_SERVICES=1, where missing server binaries are a failure, not a skip).
if (usingPostgres && process.env.ATP_REQUIRE_SERVICES === '1' && !chaosToolsAvailable())
  throw new Error(
    'the fault suite needs PostgreSQL server binaries (/usr/lib/postgresql/*/bin) and redis-server',
  );
const suite = usingPostgres && chaosToolsAvailable() ? describe : describe.skip;

const DEADLINE_MS = 5_000;
/** A loaded 2-core machine (8 engineers' tests) answers late; never later than this past the deadline. */
const DEADLINE_SLACK_MS = 2_500;
const GRACE_S = 4;
const RSS_GROWTH_BOUND_MB = 150;
const DB = 'atp_chaos';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Kind = 'chat' | 'stream' | 'jwt' | 'put' | 'get';
interface Outcome {
  scenario: string;
  kind: Kind;
  id: string;
  start: number;
  ms: number;
  /** 0: no HTTP answer (connection refused/reset, or the client gave up). */
  status: number;
  code: string | null;
  type: string | null;
  retryAfter: string | null;
  /** Acknowledged: a 200 chat answer, a stream that ended with [DONE], a 200/201 PUT. */
  acked: boolean;
  /** A stream that answered 200 and then ended with an error event (its code). */
  streamError: string | null;
  key?: string;
  value?: string;
}

function percentile(values: number[], p: number): number {
  if (!values.length) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

suite('fault suite: dependencies fail under load (built dist, own PostgreSQL and Redis)', () => {
  const pg = new OwnPostgres();
  const redis = new OwnRedis();
  const upstream = new ChaosUpstream();
  const dataDir = mkdtempSync(join(tmpdir(), 'atp-chaos-'));
  const jwtSecret = `chaos-${randomBytes(24).toString('hex')}`;
  let dbUrl = '';
  let routerPort = 0;
  let gatewayPort = 0;
  let router: RunningProcess | undefined;
  let gateway: RunningProcess | undefined;
  let apiKey = '';
  let jwt = '';
  /** Processes the suite ended itself: their exits are not "exited on its own". */
  const intended = new Set<RunningProcess>();
  const unexpectedExits: string[] = [];
  const outcomes: Outcome[] = [];
  let scenario = 'boot';
  const report: Record<string, Record<string, number | string>> = {};
  const rss = { routerBase: 0, gatewayBase: 0, routerMax: 0, gatewayMax: 0 };

  const routerUrl = () => `http://127.0.0.1:${routerPort}`;
  const gatewayUrl = () => `http://127.0.0.1:${gatewayPort}`;

  function watch(p: RunningProcess, name: string) {
    void p.exited.then(({ code, signal }) => {
      if (!intended.has(p))
        unexpectedExits.push(`${name} exited on its own (code ${code}, signal ${signal})`);
    });
  }

  async function startRouter() {
    router = startProcess([join(REPO_ROOT, 'dist', 'apps', 'router', 'main.js')], {
      NODE_ENV: 'development',
      PORT: String(routerPort),
      ATP_DATA_DIR: dataDir,
      DATABASE_URL: dbUrl,
      REDIS_URL: redis.url,
      JWT_SECRET_KEY: jwtSecret,
      LOG_LEVEL: 'WARNING',
      OPENAI_API_KEY: 'sk-chaos',
      OPENAI_BASE_URL: upstream.baseUrl,
      ATP_REQUEST_DEADLINE_MS: String(DEADLINE_MS),
      ATP_UPSTREAM_TIMEOUT_MS: '2000',
      ATP_SHUTDOWN_GRACE_SECONDS: String(GRACE_S),
    });
    watch(router, 'router');
    expect(await waitForStatus(`${routerUrl()}/ready`, (s) => s === 200, 60_000)).toBe(200);
  }

  async function startGateway() {
    gateway = startProcess([join(REPO_ROOT, 'dist', 'apps', 'memory-gateway', 'main.js')], {
      NODE_ENV: 'development',
      PORT: String(gatewayPort),
      ATP_DATA_DIR: dataDir,
      DATABASE_URL: dbUrl,
      REDIS_URL: redis.url,
      JWT_SECRET_KEY: jwtSecret,
      ENCRYPTION_KEY: `c1:${randomBytes(32).toString('base64')}`,
      LOG_LEVEL: 'WARNING',
    });
    watch(gateway, 'memory-gateway');
    expect(await waitForStatus(`${gatewayUrl()}/ready`, (s) => s === 200, 60_000)).toBe(200);
  }

  async function call(kind: Kind, n: number): Promise<Outcome> {
    const id = randomUUID();
    const start = Date.now();
    const o: Outcome = {
      scenario,
      kind,
      id,
      start,
      ms: 0,
      status: 0,
      code: null,
      type: null,
      retryAfter: null,
      acked: false,
      streamError: null,
    };
    const auth = kind === 'jwt' ? jwt : apiKey;
    const headers = {
      authorization: `Bearer ${auth}`,
      'content-type': 'application/json',
      'x-request-id': id,
    };
    let url: string;
    let init: RequestInit;
    if (kind === 'put' || kind === 'get') {
      o.key = kind === 'put' ? `k-${id}` : pickWritten();
      o.value = kind === 'put' ? `v-${n}-${id}` : undefined;
      url = `${gatewayUrl()}/v1/memory/chaos/${o.key}`;
      init =
        kind === 'put'
          ? { method: 'PUT', body: JSON.stringify({ value: { v: o.value } }) }
          : { method: 'GET' };
    } else {
      url = `${routerUrl()}/v1/chat/completions`;
      init = {
        method: 'POST',
        body: JSON.stringify({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: `chaos ${n}` }],
          ...(kind === 'stream' ? { stream: true } : {}),
        }),
      };
    }
    try {
      const res = await fetch(url, {
        ...init,
        headers,
        signal: AbortSignal.timeout(DEADLINE_MS + DEADLINE_SLACK_MS + 2_000),
      });
      o.status = res.status;
      o.retryAfter = res.headers.get('retry-after');
      const text = await res.text();
      if (kind === 'stream' && res.status === 200) {
        const errLine = text.split('\n').find((l) => l.startsWith('data: {"error"'));
        if (errLine) o.streamError = (JSON.parse(errLine.slice(6)) as { error: { code: string } }).error.code;
        o.acked = text.includes('data: [DONE]');
      } else if (res.status >= 400) {
        try {
          const env = JSON.parse(text) as { error?: { code?: string; type?: string } };
          o.code = env.error?.code ?? null;
          o.type = env.error?.type ?? null;
        } catch {
          o.code = 'not-an-envelope';
        }
      } else if (kind === 'put') {
        o.acked = res.status === 200 || res.status === 201;
        if (o.acked) written.push({ key: o.key!, value: o.value! });
      } else if (kind !== 'get') {
        o.acked = res.status === 200 && (JSON.parse(text) as { choices?: unknown[] }).choices !== undefined;
      }
    } catch (err) {
      o.code = (err as Error).name === 'TimeoutError' ? 'client_timeout' : 'network';
    }
    o.ms = Date.now() - start;
    outcomes.push(o);
    return o;
  }

  const written: { key: string; value: string }[] = [];
  function pickWritten(): string {
    return written.length ? written[Math.floor(Math.random() * written.length)].key : 'none';
  }

  /** Steady load while `during` runs: 3 chat, 2 stream, 1 JWT chat, 2 PUT, 1 GET loops. */
  async function underLoad(name: string, during: () => Promise<void>) {
    scenario = name;
    let running = true;
    let n = 0;
    const loop = async (kind: Kind) => {
      while (running) {
        const o = await call(kind, n++);
        // Fast refusals would otherwise spin the CPU the services need.
        if (!o.acked) await sleep(o.status === 0 ? 50 : 10);
      }
    };
    const kinds: Kind[] = ['chat', 'chat', 'chat', 'stream', 'stream', 'jwt', 'put', 'put', 'get'];
    const loops = kinds.map((k) => loop(k));
    const sampler = setInterval(() => {
      rss.routerMax = Math.max(rss.routerMax, rssMb(router?.child.pid) || 0);
      rss.gatewayMax = Math.max(rss.gatewayMax, rssMb(gateway?.child.pid) || 0);
      void probeHealth(name);
    }, 250);
    try {
      await during();
    } finally {
      running = false;
      await Promise.all(loops);
      clearInterval(sampler);
    }
    summarize(name);
  }

  function summarize(name: string) {
    const mine = outcomes.filter((o) => o.scenario === name);
    const by = (f: (o: Outcome) => boolean) => mine.filter(f).length;
    const unavailable = mine.filter((o) => o.status === 503);
    report[name] = {
      requests: mine.length,
      acked: by((o) => o.acked),
      '503': unavailable.length,
      '502/504': by((o) => o.status === 502 || o.status === 504),
      '500': by((o) => o.status === 500),
      '500 by kind': [...new Set(mine.filter((o) => o.status === 500).map((o) => o.kind))].join(',') || '-',
      '503 codes': [...new Set(unavailable.map((o) => o.code))].join(',') || '-',
      'no answer': by((o) => o.status === 0),
      'stream errors': by((o) => o.streamError !== null),
      'p50 ms': percentile(
        mine.map((o) => o.ms),
        50,
      ),
      'max ms': Math.max(0, ...mine.map((o) => o.ms)),
      '503 p50 ms': percentile(
        unavailable.map((o) => o.ms),
        50,
      ),
      '503 p95 ms': percentile(
        unavailable.map((o) => o.ms),
        95,
      ),
      '/health p50 ms': noop(name, 50),
      '/health p95 ms': noop(name, 95),
    };
  }

  /**
   * How slow the machine is right now: the latency of /health (touches nothing) on both services,
   * sampled during each scenario. The suite shares 2 cores with other test runs; timing bounds are
   * "the claim + what a no-op request costs at that moment", so they hold on a loaded machine and
   * still catch a request that waits on a dead dependency.
   */
  const healthMs: Record<string, number[]> = {};
  async function probeHealth(name: string) {
    for (const url of [routerUrl(), gatewayUrl()]) {
      const t0 = Date.now();
      try {
        await (await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) })).arrayBuffer();
        (healthMs[name] ??= []).push(Date.now() - t0);
      } catch {
        /* the process is being restarted */
      }
    }
  }
  const noop = (name: string, p: number) => percentile(healthMs[name] ?? [], p);

  /** Polls until chat and a memory PUT both succeed again (recovery without a restart). */
  async function recovered(withinMs: number): Promise<number> {
    const t0 = Date.now();
    for (;;) {
      const [c, p] = await Promise.all([call('chat', -1), call('put', -1)]);
      if (c.acked && p.acked) return Date.now() - t0;
      if (Date.now() - t0 > withinMs)
        throw new Error(`no recovery within ${withinMs} ms: chat ${c.status}, put ${p.status}`);
      await sleep(200);
    }
  }

  function assertScenario(name: string, opts: { allowNoAnswer?: boolean } = {}) {
    const mine = outcomes.filter((o) => o.scenario === name);
    // No request waits longer than its deadline (plus the loaded-machine slack).
    const late = mine.filter((o) => o.ms > DEADLINE_MS + DEADLINE_SLACK_MS);
    expect(late.map((o) => `${o.kind} ${o.status} ${o.code} ${o.ms} ms`)).toEqual([]);
    // Never a 500; every refusal is in the envelope; every 503 says when to retry.
    expect(mine.filter((o) => o.status === 500).map((o) => `${o.kind} ${o.code}`)).toEqual([]);
    expect(mine.filter((o) => o.code === 'not-an-envelope').length).toBe(0);
    const bad503 = mine.filter(
      (o) => o.status === 503 && (o.type !== 'service_unavailable' || !o.retryAfter),
    );
    expect(bad503.map((o) => `${o.kind} ${o.code} ${o.type} ${o.retryAfter}`)).toEqual([]);
    if (!opts.allowNoAnswer) {
      expect(mine.filter((o) => o.status === 0).map((o) => `${o.kind} ${o.code} ${o.ms} ms`)).toEqual([]);
    }
    expect(unexpectedExits).toEqual([]);
  }

  /**
   * Outage answers come fast once the outage is known (1 s in): the median 503 within 100 ms, the
   * p95 within 300 ms — each plus what a no-op /health costs at that moment (see probeHealth).
   */
  function assertFast503(name: string, outageStart: number) {
    const known = outcomes.filter(
      (o) => o.scenario === name && o.status === 503 && o.start > outageStart + 1_000,
    );
    if (!known.length) return;
    expect(
      percentile(
        known.map((o) => o.ms),
        50,
      ),
    ).toBeLessThanOrEqual(100 + noop(name, 50));
    expect(
      percentile(
        known.map((o) => o.ms),
        95,
      ),
    ).toBeLessThanOrEqual(300 + noop(name, 95));
  }

  /**
   * Once a Redis outage is known (1 s in), requests neither stall nor wait for Redis: 90% of them
   * finish within 1 s plus the p90 of a no-op /health at that moment (the issue measured ~7 s
   * each with Redis refusing, and the whole freeze with Redis stopped).
   */
  function assertFailFast(name: string, outageStart: number, outageMs: number) {
    const during = outcomes.filter(
      (o) => o.scenario === name && o.start > outageStart + 1_000 && o.start < outageStart + outageMs,
    );
    report[name]['outage p90 ms'] = percentile(
      during.map((o) => o.ms),
      90,
    );
    expect(
      percentile(
        during.map((o) => o.ms),
        90,
      ),
    ).toBeLessThanOrEqual(1_000 + noop(name, 90));
  }

  beforeAll(async () => {
    await pg.init();
    await pg.query(`CREATE DATABASE ${DB}`);
    dbUrl = pg.url.replace(/\/postgres$/, `/${DB}`);
    await redis.start();
    await upstream.start();
    routerPort = await freePort();
    gatewayPort = await freePort();
    await startRouter();
    const creds = join(dataDir, 'dev-credentials.json');
    for (let i = 0; i < 100 && !existsSync(creds); i++) await sleep(100);
    const dev = JSON.parse(readFileSync(creds, 'utf8')) as { api_key: string; tenant_id: string };
    apiKey = dev.api_key;
    jwt = platformJwt(jwtSecret, dev.tenant_id, 'llm memory:read memory:write');
    await startGateway();
    // Limits that never refuse: every call still goes through the Redis rate/concurrency checks.
    const res = await fetch(`${routerUrl()}/v1/admin/limits`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ rpm: 10_000_000, tpm: 1_000_000_000, concurrency: 10_000 }),
    });
    expect(res.status).toBe(200);
  }, 120_000);

  afterAll(async () => {
    // eslint-disable-next-line no-console
    console.log(
      [
        'fault suite counts (per scenario):',
        JSON.stringify(report, null, 1),
        `RSS MB: router ${rss.routerBase.toFixed(0)} -> max ${rss.routerMax.toFixed(0)}, gateway ${rss.gatewayBase.toFixed(0)} -> max ${rss.gatewayMax.toFixed(0)}`,
        `upstream: ${JSON.stringify(upstream.counts)}`,
      ].join('\n'),
    );
    for (const p of [router, gateway]) if (p) intended.add(p);
    await stopProcess(router);
    await stopProcess(gateway);
    await upstream.stop();
    await redis.kill();
    pg.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('baseline: every call answered', async () => {
    await underLoad('baseline', () => sleep(3_000));
    rss.routerBase = rssMb(router?.child.pid);
    rss.gatewayBase = rssMb(gateway?.child.pid);
    rss.routerMax = rss.routerBase;
    rss.gatewayMax = rss.gatewayBase;
    assertScenario('baseline');
    const mine = outcomes.filter((o) => o.scenario === 'baseline');
    expect(
      mine.filter((o) => o.kind !== 'get' && !o.acked).map((o) => `${o.kind} ${o.status} ${o.code}`),
    ).toEqual([]);
  }, 60_000);

  it('upstream answering 500, resetting connections and cutting streams: 502s and error events, nothing else', async () => {
    upstream.faults = { rate: 0.3, kinds: ['error500', 'reset', 'cut'] };
    try {
      await underLoad('upstream faults', () => sleep(5_000));
    } finally {
      upstream.faults = { rate: 0, kinds: [] };
    }
    assertScenario('upstream faults');
    expect(upstream.counts.error500 + upstream.counts.reset + upstream.counts.cut).toBeGreaterThan(0);
  }, 60_000);

  it('Redis frozen (SIGSTOP) for 5 s: nothing hangs past its deadline; thawed: recovers', async () => {
    let outage = 0;
    await underLoad('redis frozen', async () => {
      await sleep(500);
      outage = Date.now();
      redis.signal('SIGSTOP');
      try {
        await sleep(5_000);
      } finally {
        redis.signal('SIGCONT');
      }
      report['redis frozen recovery ms'] = { ms: await recovered(15_000) };
    });
    assertScenario('redis frozen');
    assertFast503('redis frozen', outage);
    assertFailFast('redis frozen', outage, 5_000);
  }, 60_000);

  it('Redis killed, refusing connections for 5 s, restarted: fail fast, then recover', async () => {
    let outage = 0;
    await underLoad('redis killed', async () => {
      await sleep(500);
      outage = Date.now();
      await redis.kill();
      await sleep(5_000);
      await redis.start();
      report['redis killed recovery ms'] = { ms: await recovered(15_000) };
    });
    assertScenario('redis killed');
    assertFast503('redis killed', outage);
    assertFailFast('redis killed', outage, 5_000);
  }, 60_000);

  for (const mode of ['fast', 'immediate'] as const) {
    it(`PostgreSQL ${mode}-stopped for 8 s: no crash, 503s in the envelope, buffers bounded, recovers`, async () => {
      let outage = 0;
      const name = `postgres ${mode} stop`;
      await underLoad(name, async () => {
        await sleep(500);
        outage = Date.now();
        pg.stop(mode);
        try {
          await sleep(8_000);
        } finally {
          await pg.start();
        }
        report[`${name} recovery ms`] = { ms: await recovered(20_000) };
      });
      assertScenario(name);
      assertFast503(name, outage);
      expect(rss.routerMax - rss.routerBase).toBeLessThan(RSS_GROWTH_BOUND_MB);
      expect(rss.gatewayMax - rss.gatewayBase).toBeLessThan(RSS_GROWTH_BOUND_MB);
    }, 90_000);
  }

  it('SIGKILL of the router under load: the acknowledged calls it loses are counted and bounded', async () => {
    let killedAt = 0;
    await underLoad('router SIGKILL', async () => {
      await sleep(2_000);
      intended.add(router!);
      killedAt = Date.now();
      router!.child.kill('SIGKILL');
      await router!.exited;
      await sleep(500);
      await startRouter();
      await sleep(1_000);
    });
    assertScenario('router SIGKILL', { allowNoAnswer: true });
    report['router SIGKILL'].killedAt = killedAt;
  }, 120_000);

  it(`SIGTERM with streams longer than the grace (${GRACE_S} s): each ends with a retryable error event, billed, recorded; exit 0`, async () => {
    scenario = 'router SIGTERM';
    const streams = Array.from({ length: 8 }, async () => {
      const id = randomUUID();
      const start = Date.now();
      const res = await fetch(`${routerUrl()}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${apiKey}`,
          'content-type': 'application/json',
          'x-request-id': id,
        },
        body: JSON.stringify({
          model: 'gpt-4o-mini',
          stream: true,
          messages: [{ role: 'user', content: 'slow:15000' }],
        }),
      });
      let text = '';
      let error = 'none';
      try {
        text = await res.text();
      } catch (err) {
        error = (err as Error).message;
      }
      const errLine = text.split('\n').find((l) => l.startsWith('data: {"error"'));
      return {
        id,
        status: res.status,
        ms: Date.now() - start,
        error,
        event: errLine ? (JSON.parse(errLine.slice(6)) as { error: Record<string, string> }).error : null,
        done: text.includes('data: [DONE]'),
        ticks: text.split('tick tock').length - 1,
      };
    });
    await sleep(1_500);
    const p = router!;
    intended.add(p);
    const t0 = Date.now();
    p.child.kill('SIGTERM');
    const results = await Promise.all(streams);
    const { code, signal } = await p.exited;
    const exitMs = Date.now() - t0;
    report['router SIGTERM'] = {
      streams: results.length,
      'error events': results.filter((r) => r.event?.code === 'server_shutting_down').length,
      'cut without event': results.filter((r) => !r.event).length,
      'exit ms': exitMs,
      'exit code': String(code),
    };
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    // Drained and flushed, not the forced exit at grace + 1 s.
    expect(p.stderr.join('')).not.toContain('did not finish');
    expect(exitMs).toBeLessThan((GRACE_S + 2) * 1000);
    for (const r of results) {
      expect(r).toMatchObject({ status: 200, error: 'none', done: false });
      expect(r.event).toMatchObject({ type: 'service_unavailable', code: 'server_shutting_down' });
      expect(r.ticks).toBeGreaterThan(5);
    }
    const rows = await pg.query<{
      request_id: string;
      status: number;
      completion_tokens: number;
      estimated: boolean;
    }>(
      'SELECT request_id, status, completion_tokens, estimated FROM usage_records WHERE request_id = ANY($1)',
      [results.map((r) => r.id)],
      DB,
    );
    expect(rows).toHaveLength(results.length);
    for (const row of rows) {
      expect(row.status).toBe(503);
      // Billed from the text relayed (~10 chars per tick, 4 chars a token), marked estimated.
      expect(row.completion_tokens).toBeGreaterThan(5);
      expect(row.estimated).toBe(true);
    }
    const audits = await pg.query<{ n: string }>(
      `SELECT COUNT(*) AS n FROM audit_events WHERE action = 'chat.completion' AND request_id = ANY($1)`,
      [results.map((r) => r.id)],
      DB,
    );
    expect(Number(audits[0].n)).toBe(results.length);
    await startRouter();
  }, 60_000);

  it('nothing acknowledged was lost: usage rows, audit events, memory writes (except the SIGKILL window)', async () => {
    // Anything still buffered after the last outage is written within a few flush intervals.
    await sleep(3_000);
    const acked = outcomes.filter((o) => o.acked && o.kind !== 'put');
    const ids = acked.map((o) => o.id);
    const usage = await pg.query<{ request_id: string; n: string }>(
      'SELECT request_id, COUNT(*) AS n FROM usage_records WHERE request_id = ANY($1) GROUP BY request_id',
      [ids],
      DB,
    );
    const audit = await pg.query<{ request_id: string; n: string }>(
      `SELECT request_id, COUNT(*) AS n FROM audit_events WHERE action = 'chat.completion' AND request_id = ANY($1) GROUP BY request_id`,
      [ids],
      DB,
    );
    const usageBy = new Map(usage.map((r) => [r.request_id, Number(r.n)]));
    const auditBy = new Map(audit.map((r) => [r.request_id, Number(r.n)]));
    const puts = outcomes.filter((o) => o.acked && o.kind === 'put');
    const putAudit = await pg.query<{ request_id: string }>(
      `SELECT request_id FROM audit_events WHERE action = 'memory.write' AND request_id = ANY($1)`,
      [puts.map((o) => o.id)],
      DB,
    );
    const putAudited = new Set(putAudit.map((r) => r.request_id));
    const unaudited = puts.filter((o) => !putAudited.has(o.id));
    if (unaudited.length) {
      // Which scenarios' events are missing, and what the gateway's write buffers say (still
      // queued, or failing): a writer stuck on one batch holds back everything after it.
      const missingPutAudits: Record<string, number> = {};
      for (const o of unaudited) missingPutAudits[o.scenario] = (missingPutAudits[o.scenario] ?? 0) + 1;
      report['memory write audit events missing by scenario'] = missingPutAudits;
      const metrics = await (await fetch(`${gatewayUrl()}/metrics`)).text();
      const buffers: Record<string, string> = {};
      for (const line of metrics.split('\n')) {
        const m =
          /^(atp_(?:buffer_depth|batch_write_failures_total|batch_items_written_total)\{.*\}) (.*)$/.exec(
            line,
          );
        if (m) buffers[m[1]] = m[2];
      }
      report['gateway write buffers'] = buffers;
    }
    // Memory writes read back through the gateway (decrypted, as stored).
    const unreadableBy: Record<string, number> = {};
    for (const o of puts) {
      const res = await fetch(`${gatewayUrl()}/v1/memory/chaos/${o.key}`, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      const body = (await res.json()) as { value?: { v?: string }; error?: { code?: string } };
      if (res.status !== 200 || body.value?.v !== o.value) {
        // Test data, not secrets: what came back shows which stage changed it (e.g. a redaction).
        const why =
          res.status === 200
            ? `wrote ${o.value}, read ${JSON.stringify(body.value?.v)}`
            : `${res.status} ${body.error?.code ?? ''}`;
        const k = `${o.scenario} / PUT answered ${o.status} after ${o.ms} ms / read: ${why}`;
        unreadableBy[k] = (unreadableBy[k] ?? 0) + 1;
      }
    }
    report['unreadable memory writes'] = unreadableBy;
    const unreadable = Object.values(unreadableBy).reduce((sum, n) => sum + n, 0);
    const killWindow = (o: Outcome) => o.scenario === 'router SIGKILL';
    const missing = (f: (o: Outcome) => boolean) => ({
      usage: acked.filter((o) => f(o) && !usageBy.has(o.id)).length,
      audit: acked.filter((o) => f(o) && !auditBy.has(o.id)).length,
    });
    const outside = missing((o) => !killWindow(o));
    const inKill = missing(killWindow);
    const missingBy: Record<string, number> = {};
    for (const o of acked) {
      const lost = [usageBy.has(o.id) ? '' : 'usage', auditBy.has(o.id) ? '' : 'audit'].filter(Boolean);
      if (lost.length) {
        const k = `${o.scenario} / ${o.kind} / ${lost.join('+')} lost`;
        missingBy[k] = (missingBy[k] ?? 0) + 1;
      }
    }
    report['missing by scenario'] = missingBy;
    const duplicates =
      [...usageBy.values()].filter((n) => n > 1).length + [...auditBy.values()].filter((n) => n > 1).length;
    report.totals = {
      'acked calls': acked.length,
      'acked memory writes': puts.length,
      'usage rows missing': outside.usage,
      'audit events missing': outside.audit,
      'memory writes unreadable': unreadable,
      'memory write audit events missing': unaudited.length,
      'SIGKILL window: usage rows lost': inKill.usage,
      'SIGKILL window: audit events lost': inKill.audit,
      duplicates,
    };
    expect(outside).toEqual({ usage: 0, audit: 0 });
    // Compared as a map so that a failure names each write and how it read back.
    expect(unreadableBy).toEqual({});
    expect(unaudited.length).toBe(0);
    expect(duplicates).toBe(0);
    // With ATP_DURABLE_RECORDS (the default) a call's row and event are committed before its
    // last byte: an acknowledged call survives a SIGKILL (the old ~110 ms batch lost 26–107).
    expect(inKill).toEqual({ usage: 0, audit: 0 });
  }, 120_000);
});
