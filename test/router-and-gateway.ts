import type { DynamicModule } from '@nestjs/common';
import { bootApp, type BootedApp, createTestEnv, type TestEnv } from '@app/testing';
import { AppModule as GatewayModule } from '../apps/memory-gateway/src/app.module';
import { AppModule as RouterModule } from '../apps/router/src/app.module';

/** The router and the memory gateway on one test env: one database, one Redis prefix, one key ring. */
export interface RouterAndGateway {
  testEnv: TestEnv;
  router: BootedApp;
  gateway: BootedApp;
}

/**
 * Boots the router, then the memory gateway, on one fresh test env for the enclosing describe,
 * and closes them (gateway first) and cleans the env after it. `gatewayImports` are added to
 * the gateway (test probes). The fields are set once the suite's beforeAll has run.
 */
export function useRouterAndGateway(
  opts: { gatewayImports?: DynamicModule['imports'] } = {},
): RouterAndGateway {
  const suite = {} as RouterAndGateway;
  beforeAll(async () => {
    suite.testEnv = await createTestEnv();
    suite.router = await bootApp('router', RouterModule, suite.testEnv.env);
    suite.gateway = await bootApp('memory-gateway', GatewayModule, suite.testEnv.env, opts.gatewayImports);
  });
  afterAll(async () => {
    await suite.gateway?.close();
    await suite.router?.close();
    await suite.testEnv?.cleanup();
  });
  return suite;
}
