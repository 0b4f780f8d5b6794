import 'reflect-metadata';
import { tracing } from './instrument';
import { runService } from '@app/common';
import { AppModule } from './app.module';

void runService({
  tracing,
  app: 'memory-gateway',
  module: (config) => AppModule.forRoot(config),
  http: {
    title: 'ATP memory gateway',
    description:
      'Tenant-scoped, encrypted memory for LLM apps, with PII handling and a tamper-evident audit chain.',
  },
  banner: (config, url) => [
    `ATP memory gateway listening on ${url} (docs: ${url}/docs)`,
    ...(config.embedded.length ? [`embedded defaults in use: ${config.embedded.join(', ')}`] : []),
  ],
});
