import { startFakeUpstream, type FakeUpstream } from '@app/providers/testing';
import { canRunOwnPostgres, canRunOwnRedis, OwnPostgres, OwnRedis } from '@app/testing';
import { upstreamEnv } from '../../apps/router/test/governance-helpers';
import { alive, call, eventually, loadLoop, type Service, sleep, startService } from './outage-helpers';

/**
 * Issue 16, defect 1: no PostgreSQL or Redis error ends a process. The built services run under
 * write load against a PostgreSQL and a Redis of this test's own; PostgreSQL is fast-stopped
 * (sessions end with 57P01) and immediate-stopped ("Connection terminated unexpectedly"), Redis
 * is killed; each comes back. Before the fix the memory gateway exited 1 on the first stop with
 * "Unhandled 'error' event" from a checked-out pg client. After each outage both services serve
 * again without a restart.
 */
const suite = canRunOwnPostgres && canRunOwnRedis ? describe : describe.skip;
jest.setTimeout(180_000);

suite('dependency faults under write load never end a process (built dist, own PostgreSQL + Redis)', () => {
  let pg: OwnPostgres;
  let redis: OwnRedis;
  let upstream: FakeUpstream;
  let gateway: Service;
  let router: Service;

  beforeAll(async () => {
    [pg, redis, upstream] = await Promise.all([OwnPostgres.start(), OwnRedis.start(), startFakeUpstream()]);
    const env = { REDIS_URL: redis.url, LOG_LEVEL: 'WARNING' };
    gateway = await startService('memory-gateway', { ...env, DATABASE_URL: pg.url });
    router = await startService('router', {
      ...env,
      DATABASE_URL: await pg.createDatabase('atp_router'),
      ...upstreamEnv(upstream),
    });
  });
  afterAll(async () => {
    await Promise.all([gateway?.stop(), router?.stop()]);
    await Promise.all([pg?.destroy(), redis?.destroy(), upstream?.close()]);
  });

  const put = (i: number) =>
    call(`${gateway.url}/v1/memory/load/k${i % 50}`, {
      method: 'PUT',
      token: gateway.apiKey,
      body: { value: { i } },
      timeoutMs: 10_000,
    });
  const chat = () =>
    call(`${router.url}/v1/chat/completions`, {
      method: 'POST',
      token: router.apiKey,
      body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] },
      timeoutMs: 10_000,
    });

  /** Both services answer a write (and the gateway reads it back) again, without a restart. */
  async function servesAgain(tag: string): Promise<void> {
    const w = await eventually(
      () =>
        call(`${gateway.url}/v1/memory/after/${tag}`, {
          method: 'PUT',
          token: gateway.apiKey,
          body: { value: tag },
        }),
      (a) => a.status === 200 || a.status === 201,
      30_000,
    );
    expect(w.status).toBeLessThan(300);
    const r = await call(`${gateway.url}/v1/memory/after/${tag}`, { token: gateway.apiKey });
    expect({ status: r.status, value: (r.body as { value?: unknown }).value }).toEqual({
      status: 200,
      value: tag,
    });
    const c = await eventually(chat, (a) => a.status === 200, 30_000);
    expect(c.status).toBe(200);
  }

  async function underLoad(fault: () => Promise<void>, recover: () => Promise<void>) {
    const writes = loadLoop(put, 6);
    const chats = loadLoop(chat, 4);
    await sleep(1000);
    await fault();
    await sleep(2500);
    await recover();
    await sleep(1000);
    const counts = { writes: await writes.stop(), chats: await chats.stop() };
    // eslint-disable-next-line no-console
    console.log(JSON.stringify(counts));
    expect({ gateway: alive(gateway), router: alive(router) }).toEqual({ gateway: true, router: true });
    // Outage answers are 503s with Retry-After in the envelope, never 500s.
    expect({ writes: counts.writes[500] ?? 0, chats: counts.chats[500] ?? 0 }).toEqual({
      writes: 0,
      chats: 0,
    });
    for (const a of [...writes.answers, ...chats.answers].filter((x) => x.status === 503)) {
      expect(a.retryAfter).toBe('5');
      expect(Object.keys((a.body as { error: object }).error).sort()).toEqual([
        'code',
        'message',
        'param',
        'type',
      ]);
    }
    return counts;
  }

  it('PostgreSQL fast stop (57P01) and start: both processes live and serve again', async () => {
    await underLoad(
      () => pg.stop('fast'),
      () => pg.resume(),
    );
    expect({ gateway: alive(gateway), router: alive(router) }).toEqual({ gateway: true, router: true });
    await servesAgain('fast');
  });

  it('PostgreSQL immediate stop ("Connection terminated unexpectedly") and start', async () => {
    await underLoad(
      () => pg.stop('immediate'),
      () => pg.resume(),
    );
    expect({ gateway: alive(gateway), router: alive(router) }).toEqual({ gateway: true, router: true });
    await servesAgain('immediate');
  });

  it('Redis killed and restarted', async () => {
    await underLoad(
      () => redis.kill(),
      () => redis.resume(),
    );
    expect({ gateway: alive(gateway), router: alive(router) }).toEqual({ gateway: true, router: true });
    await servesAgain('redis');
  });
});
