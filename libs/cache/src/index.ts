export * from './kv-store';
export * from './memory-kv-store';
export * from './redis-kv-store';
export * from './cache.module';
export * from './redis-health';
