export * from './openai-types';
export * from './llm-adapter';
export * from './call-abort';
export * from './provider-error';
export * from './usage';
export { parseArguments } from './content';
export * from './sse';
export * from './credentials';
export * from './registry';
export * from './provider-definition';
export { PROVIDERS } from './providers';
export type { GateStats } from './connection-gate';
export { DEFAULT_UPSTREAM_CONNECTIONS, DEFAULT_UPSTREAM_QUEUE_TIMEOUT_MS } from './http';
export { OpenAiAdapter, OPENAI_DEFAULT_BASE_URL, type OpenAiAdapterOptions } from './openai/openai.adapter';
export {
  AnthropicAdapter,
  ANTHROPIC_DEFAULT_BASE_URL,
  ANTHROPIC_VERSION,
  type AnthropicAdapterOptions,
} from './anthropic/anthropic.adapter';
export { ANTHROPIC_DEFAULT_MAX_TOKENS } from './anthropic/anthropic.mapper';
export { GoogleAdapter, GOOGLE_DEFAULT_BASE_URL, type GoogleAdapterOptions } from './google/google.adapter';
export { MockAdapter, type MockAdapterOptions } from './mock/mock.adapter';
export { sampleFromSchema, type JsonSchema } from './mock/schema-sample';
