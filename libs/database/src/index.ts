export * from './dialect';
export * from './data-source-options';
export * from './migrate';
export * from './database.module';
export { MIGRATIONS } from './migrations';
export * from './sqlite-connection';
export { AUDIT_REFUSAL_PREDICATE } from './migrations/1764140500000-console';
