import { randomBytes } from 'node:crypto';
import { readProcessEnv } from '@app/config';
import { usingRedis } from '@app/testing';
import type { RedisScript } from './kv-store';
import { MemoryKvStore } from './memory-kv-store';
import { RedisKvStore } from './redis-kv-store';

/** A text Redis has never seen (so the first EVALSHA gets NOSCRIPT), without flushing the shared Redis's scripts. */
const ECHO: RedisScript = {
  name: 'testEcho',
  keys: 2,
  lua: `-- ${randomBytes(8).toString('hex')}
return { KEYS[1], KEYS[2], ARGV[1], redis.call('INCRBY', KEYS[1], ARGV[2]) }`,
};

describe('KvStore.scripts()', () => {
  it('is null in process: a feature uses its in-process equivalent', async () => {
    const kv = new MemoryKvStore();
    expect(kv.scripts()).toBeNull();
    await kv.close();
  });
});

(usingRedis ? describe : describe.skip)('RedisScripts on Redis', () => {
  const prefix = `atp-t-scripts-${randomBytes(4).toString('hex')}:`;
  let kv: RedisKvStore;
  beforeAll(() => {
    kv = new RedisKvStore(readProcessEnv().REDIS_URL!, prefix);
  });
  afterAll(async () => {
    await kv.scripts().deleteByPrefix('');
    await kv.close();
  });

  it('runs a script Redis does not know yet (EVAL), then by its SHA, with prefixed keys', async () => {
    const scripts = kv.scripts();
    const evalsha = jest.spyOn(kv.client, 'evalsha');
    const evalText = jest.spyOn(kv.client, 'eval');
    expect(await scripts.run(ECHO, ['a', 'b'], ['x', 2])).toEqual([`${prefix}a`, `${prefix}b`, 'x', 2]);
    expect(await scripts.run(ECHO, ['a', 'b'], ['y', 3])).toEqual([`${prefix}a`, `${prefix}b`, 'y', 5]);
    expect({ evalsha: evalsha.mock.calls.length, eval: evalText.mock.calls.length }).toEqual({
      evalsha: 2,
      eval: 1,
    });
    expect(await kv.get('a')).toBe('5');
  });

  it('refuses a call with the wrong number of keys', () => {
    expect(() => kv.scripts().run(ECHO, ['a'], [])).toThrow('testEcho takes 2 keys, not 1');
  });

  it('deletes by prefix only the keys under it', async () => {
    await kv.set('mem:r:1', 'x');
    await kv.set('mem:r:2', 'x');
    await kv.set('other', 'x');
    await kv.scripts().deleteByPrefix('mem:r:');
    expect([await kv.get('mem:r:1'), await kv.get('mem:r:2'), await kv.get('other')]).toEqual([
      null,
      null,
      'x',
    ]);
  });
});
