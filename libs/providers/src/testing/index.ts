/**
 * Test doubles for provider adapters and router e2e tests: one fake upstream server speaking
 * every provider's real wire format (each provider's fake lives in `<vendor>/testing/`), plus
 * stream helpers. Import this entry (`@app/providers/testing`) from tests only, never from
 * production code.
 */
export * from './fake-upstreams';
export { fakeVector, type FakeFinish, type FakeReply } from './fake-wire.common';
export type { FakeRoute, FakeVendorWire } from './fake-vendor-wire';
export { collectStream, streamedText } from './adapter-fault-suite';
export { sampleFromSchema, schemaAnswer, type RequestIntent } from './fake-schema';
export { openaiFakeWire } from '../openai/testing';
export { anthropicFakeWire } from '../anthropic/testing';
export { googleFakeWire } from '../google/testing';
