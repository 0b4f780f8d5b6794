/** The fake Gemini upstream (tests only; re-exported by `@app/providers/testing`). */
export { googleFakeWire } from './google.fake-upstream';
export * from './google.fake-wire';
