import { AtpError } from '@app/common';
import { type EmbeddingRequest, estimateTokens } from '@app/providers';
import type { CatalogModel } from './catalog';

/** OpenAI's limits for one embeddings request: items in `input`, and tokens summed over them. */
export const MAX_EMBEDDING_INPUTS = 2048;
export const MAX_EMBEDDING_REQUEST_TOKENS = 300_000;

const badInput = (message: string) => AtpError.badRequest('invalid_request', message, 'input');

/** Token count of each input: strings estimated at 4 characters a token, token arrays counted. */
function inputTokens(input: EmbeddingRequest['input']): number[] {
  if (typeof input === 'string') return [estimateTokens(input)];
  return (input as (string | number | number[])[]).map((item) =>
    typeof item === 'string' ? estimateTokens(item) : typeof item === 'number' ? 1 : item.length,
  );
}

/**
 * Refuses, before any upstream call, what OpenAI refuses: more than 2048 inputs, an empty string,
 * one input longer than the model's context window, or more than 300k tokens in all. (A single
 * token array `[1, 2, 3]` is one input of three tokens.) Counts are estimates, so an input close
 * to a limit may still be refused by the vendor; the message says which input is too long.
 */
export function assertEmbeddingInput(req: EmbeddingRequest, model: CatalogModel): void {
  const input = req.input;
  const single = typeof input === 'string' || typeof (input as unknown[])[0] === 'number';
  const items = single ? 1 : (input as unknown[]).length;
  if (items > MAX_EMBEDDING_INPUTS) {
    throw badInput(`'input' has ${items} items; at most ${MAX_EMBEDDING_INPUTS} are allowed per request`);
  }
  const texts = single ? [input] : (input as unknown[]);
  const empty = texts.findIndex((t) => t === '');
  if (empty >= 0) throw badInput(`'input${single ? '' : `[${empty}]`}' is an empty string`);
  const tokens = single
    ? [inputTokens(input).reduce((a, b) => a + b, 0)]
    : inputTokens(input as EmbeddingRequest['input']);
  const tooLong = tokens.findIndex((n) => n > model.contextWindow);
  if (tooLong >= 0) {
    throw badInput(
      `'input[${tooLong}]' is about ${tokens[tooLong]} tokens; ${model.id} takes at most ${model.contextWindow} tokens per input`,
    );
  }
  const total = tokens.reduce((a, b) => a + b, 0);
  if (total > MAX_EMBEDDING_REQUEST_TOKENS) {
    throw badInput(
      `'input' is about ${total} tokens in all; at most ${MAX_EMBEDDING_REQUEST_TOKENS} tokens are allowed per request`,
    );
  }
}

/** The `dimensions` a model takes: a range, none at all, or unknown (the upstream decides). */
export type DimensionSupport = { min: number; max: number } | 'unsupported' | 'unknown';

/**
 * From the vendors' docs: OpenAI's text-embedding-3-* shorten to any size up to their native
 * one (ada-002 takes none); Gemini's `outputDimensionality` goes up to 768 on text-embedding-004/005
 * and 128–3072 on gemini-embedding-*, embedding-001 takes none; the mock makes 8–1536. Other
 * models (openai-compatible servers, ids the table does not know) pass it on unchecked.
 */
export function dimensionSupport(model: Pick<CatalogModel, 'provider' | 'upstream'>): DimensionSupport {
  const name = model.upstream.replace(/^models\//, '');
  if (model.provider === 'openai') {
    if (name.startsWith('text-embedding-3-large')) return { min: 1, max: 3072 };
    if (name.startsWith('text-embedding-3-')) return { min: 1, max: 1536 };
    if (name.startsWith('text-embedding-ada')) return 'unsupported';
  }
  if (model.provider === 'google') {
    if (name.startsWith('gemini-embedding')) return { min: 128, max: 3072 };
    if (/^text-embedding-00[45]/.test(name)) return { min: 1, max: 768 };
    if (name.startsWith('embedding-')) return 'unsupported';
  }
  if (model.provider === 'mock') return { min: 8, max: 1536 };
  return 'unknown';
}

/** `dimensions` must suit every candidate the request may be served by (400 naming it). */
export function assertDimensions(req: EmbeddingRequest, candidates: readonly CatalogModel[]): void {
  const dims = req.dimensions;
  if (dims === undefined) return;
  for (const model of candidates) {
    const support = dimensionSupport(model);
    if (support === 'unknown') continue;
    if (support === 'unsupported') {
      throw AtpError.badRequest(
        'invalid_request',
        `'dimensions' is not supported by ${model.id}: its vectors have one fixed size`,
        'dimensions',
      );
    }
    if (dims < support.min || dims > support.max) {
      throw AtpError.badRequest(
        'invalid_request',
        `'dimensions' must be ${support.min}..${support.max} for ${model.id}; got ${dims}`,
        'dimensions',
      );
    }
  }
}
