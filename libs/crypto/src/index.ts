export * from './crypto.errors';
export * from './envelope';
export * from './data-key';
export * from './value-cipher';
export * from './derived-keys';
export * from './blind-index';
export * from './data-key-store';
export * from './tenant-crypto';
