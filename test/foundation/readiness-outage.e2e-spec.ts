import request from 'supertest';
import {
  CuttableProxy,
  bootApp,
  type BootedApp,
  createTestEnv,
  type TestEnv,
  usingPostgres,
  usingRedis,
} from '@app/testing';
import { AppModule } from '../../apps/router/src/app.module';

/**
 * /ready follows PostgreSQL and Redis going away and coming back, without a restart. The
 * outage is simulated with a TCP proxy so the shared servers other tests use stay up.
 */
const suite = usingPostgres && usingRedis ? describe : describe.skip;

suite('readiness through a PostgreSQL and Redis outage', () => {
  let testEnv: TestEnv;
  let booted: BootedApp;
  const pgProxy = new CuttableProxy('127.0.0.1', 0);
  const redisProxy = new CuttableProxy('127.0.0.1', 0);

  beforeAll(async () => {
    testEnv = await createTestEnv();
    const db = new URL(testEnv.env.DATABASE_URL);
    const redis = new URL(testEnv.env.REDIS_URL);
    Object.assign(pgProxy, { targetHost: db.hostname, targetPort: Number(db.port || 5432) });
    Object.assign(redisProxy, { targetHost: redis.hostname, targetPort: Number(redis.port || 6379) });
    db.host = `127.0.0.1:${await pgProxy.start()}`;
    redis.host = `127.0.0.1:${await redisProxy.start()}`;
    booted = await bootApp('router', AppModule, {
      ...testEnv.env,
      DATABASE_URL: db.toString(),
      REDIS_URL: redis.toString(),
    });
  });
  afterAll(async () => {
    await booted?.close();
    await pgProxy.cut();
    await redisProxy.cut();
    await testEnv?.cleanup();
  });

  async function readyUntil(status: number, withinMs: number) {
    const deadline = Date.now() + withinMs;
    for (;;) {
      const res = await request(booted.url).get('/ready');
      if (res.status === status || Date.now() > deadline) return res;
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  it('PostgreSQL down → 503 naming the database within 10 s; back → 200; /health stays 200', async () => {
    expect((await request(booted.url).get('/ready')).status).toBe(200);
    await pgProxy.cut();
    const down = await readyUntil(503, 10_000);
    expect(down.status).toBe(503);
    expect(down.body.error.database.status).toBe('down');
    expect(down.body.details.redis.status).toBe('up');
    expect((await request(booted.url).get('/health')).status).toBe(200);

    await pgProxy.restore();
    const up = await readyUntil(200, 15_000);
    expect(up.status).toBe(200);
  });

  it('Redis down → 503 naming redis within 10 s; back → 200', async () => {
    await redisProxy.cut();
    const down = await readyUntil(503, 10_000);
    expect(down.status).toBe(503);
    expect(down.body.error.redis.status).toBe('down');
    expect(down.body.details.database.status).toBe('up');

    await redisProxy.restore();
    const up = await readyUntil(200, 15_000);
    expect(up.status).toBe(200);
  });
});
