import { RoutingService } from '../../apps/router/src/routing/routing.service';
import { RoutingStatsStore } from '../../apps/router/src/routing/routing-stats.store';
import { AppModule } from '../../apps/router/src/app.module';
import { bootApp, type BootedApp, createTestEnv, type TestEnv, usingRedis } from '@app/testing';

/**
 * Two router instances sharing one Redis (and one database): a circuit opened by failures seen
 * on one replica, and the learned routing statistics, are seen by the other.
 */
const suite = usingRedis ? describe : describe.skip;

suite('routing state shared through Redis by two router replicas', () => {
  let testEnv: TestEnv;
  let a: BootedApp;
  let b: BootedApp;

  beforeAll(async () => {
    testEnv = await createTestEnv({
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      ANTHROPIC_API_KEY: 'sk-ant-test',
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:9',
    });
    a = await bootApp('router', AppModule, testEnv.env);
    b = await bootApp('router', AppModule, testEnv.env);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await testEnv?.cleanup();
  });

  it('a circuit opened on replica A is open on replica B, and B routes around it', async () => {
    const routingA = a.app.get(RoutingService);
    const routingB = b.app.get(RoutingService);
    const before = await routingB.plan('best', 'chat');
    expect(before.attempts[0].id).toBe('claude-sonnet-4-5');

    const sonnet = routingA.catalog.models.get('claude-sonnet-4-5')!;
    for (let i = 0; i < 5; i++) await routingA.recordOutcome(sonnet, false, null);

    expect(await routingB.breaker.isOpenNow('anthropic', 'claude-sonnet-4-5')).toBe(true);
    const after = await routingB.plan('best', 'chat');
    expect(after.attempts.map((m) => m.id)).toEqual(['gpt-4.1', 'claude-sonnet-4-5']);
  });

  it('statistics learned on replica A are read by replica B', async () => {
    const routingA = a.app.get(RoutingService);
    const mini = routingA.catalog.models.get('gpt-4o-mini')!;
    for (let i = 0; i < 7; i++) await routingA.recordOutcome(mini, true, 120);
    await routingA.recordOutcome(mini, false, null);

    const stats = await b.app.get(RoutingStatsStore).getFresh('openai', 'gpt-4o-mini');
    expect(stats.successes).toBe(7);
    expect(stats.failures).toBe(1);
    expect(stats.latencyEwmaMs).toBeCloseTo(120, 5);
  });
});
