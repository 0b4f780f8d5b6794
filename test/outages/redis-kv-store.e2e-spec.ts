import { RedisKvStore, RedisUnavailableError } from '@app/cache';
import { canRunOwnRedis, freePort, OwnRedis } from '@app/testing';
import { sleep } from './outage-helpers';

/**
 * RedisKvStore against a Redis of the test's own: commands are bounded, an outage is detected
 * once and then costs no wait, recovery needs no restart, and an event-loop stall does not
 * make a healthy Redis look slow.
 */
const suite = canRunOwnRedis ? describe : describe.skip;

suite('RedisKvStore through Redis faults (own Redis)', () => {
  let redis: OwnRedis;
  let kv: RedisKvStore;

  beforeAll(async () => {
    redis = await OwnRedis.start();
    kv = new RedisKvStore(redis.url, 'kvt:', { timeoutMs: 50 });
    await kv.connected(5000);
  });
  afterAll(async () => {
    redis?.thaw();
    await kv?.close();
    await redis?.destroy();
  });

  async function timedError(p: Promise<unknown>): Promise<{ ms: number; err: unknown }> {
    const started = performance.now();
    try {
      await p;
      return { ms: performance.now() - started, err: null };
    } catch (err) {
      return { ms: performance.now() - started, err };
    }
  }

  it('an event-loop stall longer than the timeout does not turn a reply in the socket into a timeout', async () => {
    const answer = kv.call((c) => c.ping(), 20);
    const until = Date.now() + 150; // the reply arrives from redis-server during this stall
    while (Date.now() < until) {
      /* a stalled event loop */
    }
    await expect(answer).resolves.toBe('PONG');
    expect(kv.available()).toBe(true);
  });

  it('frozen: a command waits the timeout and one PING; confirmed down, calls fail at once; thawed, back by itself', async () => {
    await kv.set('k', 'v');
    redis.freeze();
    const first = await timedError(kv.get('k'));
    expect(first.err).toBeInstanceOf(RedisUnavailableError);
    // 50 ms timeout + the 500 ms confirming PING, plus a loaded machine's scheduling
    expect(first.ms).toBeGreaterThanOrEqual(500);
    expect(first.ms).toBeLessThan(1500);
    expect(kv.available()).toBe(false);
    const fast = await timedError(kv.get('k'));
    expect(fast.err).toBeInstanceOf(RedisUnavailableError);
    expect(fast.ms).toBeLessThan(20);
    redis.thaw();
    const deadline = Date.now() + 5000;
    while (!kv.available() && Date.now() < deadline) await sleep(50);
    expect(kv.available()).toBe(true);
    expect(await kv.get('k')).toBe('v');
  });

  it('killed: down at once (the connection is lost); restarted: back by itself', async () => {
    await redis.kill();
    await sleep(50);
    expect(kv.available()).toBe(false);
    const fast = await timedError(kv.incrBy('n', 1));
    expect(fast.err).toBeInstanceOf(RedisUnavailableError);
    expect(fast.ms).toBeLessThan(20);
    await redis.resume();
    const deadline = Date.now() + 5000;
    while (!kv.available() && Date.now() < deadline) await sleep(50);
    expect(kv.available()).toBe(true);
    expect(await kv.incrBy('n', 1)).toBe(1);
  });

  it('a subscriber hears messages again after Redis restarts', async () => {
    const heard: string[] = [];
    const unsubscribe = await kv.subscribe('chan', (m) => heard.push(m));
    // subscribe() resolves before the SUBSCRIBE is through: publish until heard
    for (const until = Date.now() + 5000; !heard.includes('one') && Date.now() < until;) {
      await kv.publish('chan', 'one');
      await sleep(100);
    }
    await redis.kill();
    await redis.resume();
    const deadline = Date.now() + 8000;
    while (!heard.includes('two') && Date.now() < deadline) {
      await sleep(200);
      if (kv.available()) await kv.publish('chan', 'two').catch(() => undefined);
    }
    expect(heard).toContain('one');
    expect(heard).toContain('two');
    await unsubscribe();
  });

  it('Redis down at start-up: the first call waits for the first connection once, later calls fail at once', async () => {
    const port = await freePort();
    const down = new RedisKvStore(`redis://127.0.0.1:${port}`, 'kvt:', { timeoutMs: 50 });
    try {
      const first = await timedError(down.get('k'));
      expect(first.err).toBeInstanceOf(RedisUnavailableError);
      expect(first.ms).toBeLessThan(3000);
      const later = await Promise.all([1, 2, 3].map(() => timedError(down.get('k'))));
      for (const l of later) {
        expect(l.err).toBeInstanceOf(RedisUnavailableError);
        expect(l.ms).toBeLessThan(50);
      }
    } finally {
      await down.close();
    }
  });

  it('a reply error of the command itself is passed through and does not mark Redis down', async () => {
    await kv.set('str', 'x');
    await expect(kv.call((c) => c.hgetall(kv.key('str')))).rejects.toThrow(/WRONGTYPE/);
    expect(kv.available()).toBe(true);
  });
});
