export * from './env';
export * from './schema';
export * from './key-ring';
export * from './load-config';
export * from './config.module';
