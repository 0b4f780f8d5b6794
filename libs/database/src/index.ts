export * from './dialect';
export * from './data-source-options';
export * from './migrate';
export * from './database.module';
export { MIGRATIONS } from './migrations';
export * from './sqlite-connection';
