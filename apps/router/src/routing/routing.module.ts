import { Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { createProviderRegistry, loadProviderCredentials, ProviderRegistry } from '@app/providers';
import type { Catalog } from './resolve-model';
import { buildCatalog, readRoutingConfig, type RoutingConfigFile } from './routing-config';
import { RoutingService } from './routing.service';
import { CATALOG } from './routing.tokens';
import { RoutingStatsStore } from './routing-stats.store';
import { unwatchUpstreamPools, watchUpstreamPools } from './upstream-pool.metrics';

/**
 * Provider adapters (from env keys and PROVIDER_KEYS_FILE), the model catalog (built-in plus
 * ATP_ROUTING_CONFIG) and the routing service. A bad keys file or routing YAML stops boot with
 * a message naming the file.
 */
/** The parsed ATP_ROUTING_CONFIG (null without one), read once for the catalog and the providers. */
const ROUTING_FILE = Symbol('ROUTING_FILE');

@Module({
  providers: [
    {
      provide: ROUTING_FILE,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig<'router'>): RoutingConfigFile | null => {
        const path = config.env.ATP_ROUTING_CONFIG;
        return path ? readRoutingConfig(path) : null;
      },
    },
    {
      provide: CATALOG,
      inject: [ROUTING_FILE],
      useFactory: (file: RoutingConfigFile | null): Catalog => buildCatalog(file ?? undefined),
    },
    {
      provide: ProviderRegistry,
      inject: [APP_CONFIG, ROUTING_FILE],
      useFactory: (config: AppConfig<'router'>, file: RoutingConfigFile | null): ProviderRegistry => {
        const env = config.env as unknown as Record<string, string | undefined>;
        const credentials = loadProviderCredentials({ env, file: config.env.PROVIDER_KEYS_FILE });
        const registry = createProviderRegistry({
          credentials,
          pool: {
            connections: config.env.ATP_UPSTREAM_CONNECTIONS,
            queueTimeoutMs: config.env.ATP_UPSTREAM_QUEUE_TIMEOUT_MS,
          },
          openaiCompatible: (file?.providers ?? []).map((p) => ({
            id: p.id,
            baseUrl: p.base_url,
            apiKey: p.api_key_env ? env[p.api_key_env] : undefined,
          })),
        });
        const logger = new Logger('Providers');
        if (registry.ids().includes('mock') && registry.ids().length === 1) {
          logger.warn(
            'NO PROVIDER KEY IS SET: every model and alias is served by the built-in MOCK provider',
          );
        } else {
          logger.log(`providers configured: ${registry.ids().join(', ')}`);
        }
        watchUpstreamPools(registry);
        return registry;
      },
    },
    RoutingStatsStore,
    RoutingService,
  ],
  exports: [CATALOG, ProviderRegistry, RoutingService, RoutingStatsStore],
})
export class RoutingModule implements OnApplicationShutdown {
  constructor(@Inject(ProviderRegistry) private readonly registry: ProviderRegistry) {}

  async onApplicationShutdown(): Promise<void> {
    unwatchUpstreamPools(this.registry);
    await this.registry.close();
  }
}
