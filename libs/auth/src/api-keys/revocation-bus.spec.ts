import { Logger } from '@nestjs/common';
import { MemoryKvStore } from '@app/cache';
import { RevocationBus } from './revocation-bus';

const ID = '0b8c6f3e-1d2a-4b5c-9d8e-7f6a5b4c3d2e';

describe('RevocationBus', () => {
  // Failure paths log a warning by design; keep the test output clean.
  beforeAll(() => jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));
  afterAll(() => jest.restoreAllMocks());

  it('delivers to local listeners at once and to other subscribers through the store', async () => {
    const kv = new MemoryKvStore();
    const here: string[] = [];
    const there: string[] = [];
    const a = new RevocationBus(kv);
    const b = new RevocationBus(kv);
    const stopA = await a.listen((id) => here.push(id));
    const stopB = await b.listen((id) => there.push(id));
    await a.announce({ id: ID, tenant_id: 't' });
    expect(here).toContain(ID);
    expect(there).toEqual([ID]);
    await stopA();
    await stopB();
    await a.announce({ id: ID, tenant_id: 't' });
    expect(there).toEqual([ID]);
    await kv.close();
  });

  it('ignores messages that are not revocations', async () => {
    const kv = new MemoryKvStore();
    const got: string[] = [];
    const stop = await new RevocationBus(kv).listen((id) => got.push(id));
    await kv.publish('auth:api-key-revoked', 'not json');
    await kv.publish('auth:api-key-revoked', JSON.stringify({ id: 'not-a-uuid' }));
    expect(got).toEqual([]);
    await stop();
    await kv.close();
  });

  it('survives a store that cannot publish or subscribe (the cache TTL is the backstop)', async () => {
    const broken = {
      publish: () => Promise.reject(new Error('down')),
      subscribe: () => new Promise<never>(() => undefined),
    };
    const bus = new RevocationBus(broken);
    const got: string[] = [];
    const started = Date.now();
    await bus.listen((id) => got.push(id), 50);
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(bus.announce({ id: ID, tenant_id: 't' })).resolves.toBeUndefined();
    expect(got).toEqual([ID]);
  });
});
