/** The fake Anthropic upstream (tests only; re-exported by `@app/providers/testing`). */
export { anthropicFakeWire } from './anthropic.fake-upstream';
export * from './anthropic.fake-wire';
