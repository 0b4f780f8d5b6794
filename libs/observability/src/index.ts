export * from './logging';
export * from './metrics';
export * from './tracing';
export * from './observability.module';
export * from './cluster-metrics';
export * from './buffer-pressure';
export * from './dependency-outage';
