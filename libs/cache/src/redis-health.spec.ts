import { DependencyOutage } from '@app/observability';
import { RedisHealth, RedisUnavailableError, within } from './redis-health';

const quiet = { warn: () => undefined, log: () => undefined };

describe('within', () => {
  it('rejects with the timeout error when nothing answers', async () => {
    const started = Date.now();
    await expect(
      within(new Promise(() => undefined), 30, () => new RedisUnavailableError('timed out')),
    ).rejects.toBeInstanceOf(RedisUnavailableError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(29);
  });
});

describe('RedisHealth', () => {
  function make(ping: () => Promise<unknown>) {
    const outage = new DependencyOutage('TestRedis', { log: quiet });
    const health = new RedisHealth({
      ping,
      connected: () => true,
      confirmTimeoutMs: 50,
      probeEveryMs: 20,
      outage,
    });
    return { health, outage };
  }

  it('a timeout is only an outage when a PING does not answer either; callers share one PING', async () => {
    let answers = true;
    let pings = 0;
    const { health, outage } = make(() => {
      pings++;
      return answers ? Promise.resolve('PONG') : new Promise(() => undefined);
    });
    expect(await health.confirm(new Error('slow'))).toBe(true);
    expect(health.up).toBe(true);
    answers = false;
    const asked = await Promise.all([1, 2, 3].map(() => health.confirm(new Error('slow'))));
    expect({ asked, pings }).toEqual({ asked: [false, false, false], pings: 2 });
    expect(health.up).toBe(false);
    expect(outage.isDown).toBe(true);
    health.close();
  });

  it('down: a background PING brings it back and tells the listeners once', async () => {
    let answers = false;
    const { health, outage } = make(() =>
      answers ? Promise.resolve('PONG') : Promise.reject(new Error('refused')),
    );
    let recovered = 0;
    health.onUp(() => recovered++);
    health.markDown(new Error('connection lost'));
    await new Promise((r) => setTimeout(r, 100));
    expect(health.up).toBe(false);
    answers = true;
    await new Promise((r) => setTimeout(r, 100));
    expect({ up: health.up, recovered, outageDown: outage.isDown }).toEqual({
      up: true,
      recovered: 1,
      outageDown: false,
    });
    health.close();
  });
});
