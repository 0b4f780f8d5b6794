/**
 * Test doubles for provider adapters and router e2e tests: fake OpenAI / Anthropic / Gemini
 * upstream servers speaking the real wire formats, plus stream helpers. Import this entry
 * (`libs/providers/src/testing`) from tests only, never from production code.
 */
export * from './fake-upstreams';
export { fakeVector, type FakeFinish } from './fake-wire';
export { collectStream, streamedText } from './adapter-fault-suite';
export { requestIntent, sampleFromSchema, schemaAnswer } from './fake-schema';
