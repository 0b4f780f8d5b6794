export * from './errors';
export * from './error-mapping';
export * from './all-exceptions.filter';
export * from './validation';
export * from './http-app';
export * from './run-service';
export * from './json-depth';
export * from './uuid-v7';
