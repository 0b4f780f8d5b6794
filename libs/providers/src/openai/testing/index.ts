/** The fake OpenAI upstream (tests only; re-exported by `@app/providers/testing`). */
export { openaiFakeWire } from './openai.fake-upstream';
export * from './openai.fake-wire';
