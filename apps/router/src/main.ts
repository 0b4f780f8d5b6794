import 'reflect-metadata';
import { tracing } from './instrument';
import { runService } from '@app/common';
import { AppModule } from './app.module';

void runService({
  tracing,
  app: 'router',
  module: (config) => AppModule.forRoot(config),
  http: {
    title: 'ATP router',
    description: 'OpenAI-compatible LLM gateway: chat completions, embeddings, models, usage and admin.',
  },
  banner: (config, url) => [
    `ATP router listening on ${url} (docs: ${url}/docs)`,
    ...(config.embedded.length ? [`embedded defaults in use: ${config.embedded.join(', ')}`] : []),
  ],
});
