import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BehaviourSource, type FakeUpstream, startFakeUpstream } from '@app/providers/testing';
import { bootApp, type BootedApp, createTestEnv, type TestEnv } from '@app/testing';
import { AppModule } from '../../src/app.module';
import { upstreamEnv } from '../governance-helpers';

/** A router booted in front of one fake upstream that speaks every vendor's wire format. */
export interface RouterOnFakes {
  upstream: FakeUpstream;
  testEnv: TestEnv;
  booted: BootedApp;
}

/**
 * Boots a router on the fake upstream for the enclosing describe, resets the fake before each
 * test and closes everything after. `env` is added to the router's environment; `routing` (YAML)
 * becomes its ATP_ROUTING_CONFIG. The fields are set once the suite's beforeAll has run.
 */
export function useRouterOnFakes(
  opts: { env?: Record<string, string>; routing?: string; behaviour?: BehaviourSource } = {},
): RouterOnFakes {
  const suite = {} as RouterOnFakes;
  beforeAll(async () => {
    suite.upstream = await startFakeUpstream({ behaviour: opts.behaviour });
    suite.testEnv = await createTestEnv({ ...upstreamEnv(suite.upstream), ...opts.env });
    if (opts.routing) {
      const path = join(suite.testEnv.dataDir, 'routing.yaml');
      writeFileSync(path, opts.routing);
      suite.testEnv.env.ATP_ROUTING_CONFIG = path;
    }
    suite.booted = await bootApp('router', AppModule, suite.testEnv.env);
  });
  beforeEach(() => suite.upstream.reset());
  afterAll(async () => {
    await suite.booted?.close();
    await suite.upstream?.close();
    await suite.testEnv?.cleanup();
  });
  return suite;
}
