/**
 * @app/pii — PII and secret detection and handling. Pure (no Nest, no I/O) but for the worker pool
 * that runs it off the event loop (`PiiPool`) and its Nest provider (`PiiWorkers`).
 */
export * from './pii.types';
export { PiiError, type PiiErrorCode } from './pii.errors';
export { detectPii, resolveOverlaps, DEFAULT_MIN_SCORE } from './detect';
export {
  applyPii,
  maskValue,
  replacementFor,
  summarize,
  assertPiiMode,
  actionFor,
  HASH_HEX_LENGTH,
} from './operators';
export { applyPiiToJson, MAX_JSON_DEPTH } from './json';
export { searchableWithoutPlaceholders } from './placeholders';
export { PiiPool, PiiPoolBusyError, PII_INLINE_BELOW_CHARS, type PiiPoolOptions } from './pool/pii-pool';
export type { EntitiesAs } from './pool/pii-job';
export { PiiWorkers } from './pool/pii-workers';
export { resolvePiiMode, DEFAULT_PII_MODE, type PiiModeSources } from './mode';
export {
  isLuhnValid,
  isCreditCardNumber,
  isIban,
  isIbanChecksumValid,
  isUsSsn,
  isIpv4Address,
  isIpv6Address,
  isNanpNumber,
} from './validators';
export {
  evaluateCorpus,
  formatEvaluationTable,
  parseCorpus,
  type CorpusLine,
  type Evaluation,
  type EvaluationRow,
} from './evaluate';
