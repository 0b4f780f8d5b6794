import KeyvRedis from '@keyv/redis';
import { CacheModule as NestCacheModule } from '@nestjs/cache-manager';
import {
  type DynamicModule,
  Global,
  Inject,
  Logger,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import Keyv from 'keyv';
import type { AppConfig } from '@app/config';
import { KV_STORE, type KvStore } from './kv-store';
import { MemoryKvStore } from './memory-kv-store';
import { RedisKvStore, throttledErrorLogger } from './redis-kv-store';

export function createKvStore(config: AppConfig): KvStore {
  return config.redis
    ? new RedisKvStore(config.redis.url, config.redis.prefix, { timeoutMs: config.redis.timeoutMs })
    : new MemoryKvStore();
}

/**
 * Caching through cache-manager (`@nestjs/cache-manager` with `@keyv/redis`, the maintained
 * successor of cache-manager-redis-yet) plus the raw {@link KvStore}. Both fall back to
 * in-process stores when REDIS_URL is absent.
 */
@Global()
@Module({})
export class CacheModule implements OnApplicationShutdown {
  constructor(@Inject(KV_STORE) private readonly kv: KvStore) {}

  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: CacheModule,
      imports: [
        NestCacheModule.registerAsync({
          useFactory: (): { stores?: Keyv[] } => {
            if (!config.redis) return {};
            const keyv = new Keyv({
              store: new KeyvRedis(config.redis.url, { throwOnConnectError: false, connectionTimeout: 2000 }),
              namespace: `${config.redis.prefix}cache`,
              useKeyPrefix: false,
            });
            keyv.on('error', throttledErrorLogger(new Logger('Cache'), 'cache store'));
            return { stores: [keyv] };
          },
        }),
      ],
      providers: [
        {
          provide: KV_STORE,
          // Waits (2 s at most) for the connection, so the first requests after start-up do not
          // find Redis "down" merely because it is still connecting.
          useFactory: async () => {
            const kv = createKvStore(config);
            if (kv instanceof RedisKvStore) await kv.connected(2000);
            return kv;
          },
        },
      ],
      exports: [NestCacheModule, KV_STORE],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.kv.close();
  }
}
