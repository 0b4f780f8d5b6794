import { Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { createProviderRegistry, loadProviderCredentials, ProviderRegistry } from '@app/providers';
import type { Catalog } from './resolve-model';
import { buildCatalog, readRoutingConfig } from './routing-config';
import { RoutingService } from './routing.service';
import { CATALOG } from './routing.tokens';
import { RoutingStatsStore } from './routing-stats.store';

/**
 * Provider adapters (from env keys and PROVIDER_KEYS_FILE), the model catalog (built-in plus
 * ATP_ROUTING_CONFIG) and the routing service. A bad keys file or routing YAML stops boot with
 * a message naming the file.
 */
@Module({
  providers: [
    {
      provide: CATALOG,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig<'router'>): Catalog => {
        const path = config.env.ATP_ROUTING_CONFIG;
        return buildCatalog(path ? readRoutingConfig(path) : undefined);
      },
    },
    {
      provide: ProviderRegistry,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig<'router'>): ProviderRegistry => {
        const path = config.env.ATP_ROUTING_CONFIG;
        const file = path ? readRoutingConfig(path) : undefined;
        const env = config.env as unknown as Record<string, string | undefined>;
        const credentials = loadProviderCredentials({ env, file: config.env.PROVIDER_KEYS_FILE });
        const registry = createProviderRegistry({
          credentials,
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
    await this.registry.close();
  }
}
