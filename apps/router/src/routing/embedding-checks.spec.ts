import { AtpError } from '@app/common';
import { BUILTIN_MODELS, type CatalogModel } from './catalog';
import { assertDimensions, assertEmbeddingInput, dimensionSupport } from './embedding-checks';

const model = (id: string): CatalogModel => BUILTIN_MODELS.find((m) => m.id === id) as CatalogModel;
const small = model('text-embedding-3-small');

function refusal(fn: () => void): { status: number; param: string | null | undefined; message: string } {
  try {
    fn();
  } catch (err) {
    const e = err as AtpError;
    return { status: e.status, param: e.param, message: e.message };
  }
  throw new Error('expected a refusal');
}

describe('embedding input limits', () => {
  it('accepts up to 2048 inputs, refuses 2049 naming input', () => {
    expect(() => assertEmbeddingInput({ model: 'm', input: Array(2048).fill('a') }, small)).not.toThrow();
    expect(refusal(() => assertEmbeddingInput({ model: 'm', input: Array(2049).fill('a') }, small))).toEqual({
      status: 400,
      param: 'input',
      message: expect.stringMatching(/2049 items; at most 2048/),
    });
  });

  it('a single token array is one input; empty strings are refused with their index', () => {
    expect(() => assertEmbeddingInput({ model: 'm', input: [1, 2, 3] }, small)).not.toThrow();
    expect(refusal(() => assertEmbeddingInput({ model: 'm', input: ['a', '', 'b'] }, small)).message).toMatch(
      /input\[1\]' is an empty string/,
    );
    expect(refusal(() => assertEmbeddingInput({ model: 'm', input: '' }, small)).message).toMatch(
      /'input' is an empty string/,
    );
  });

  it('per-input context window and the 300k-token request total', () => {
    const tokens = (n: number) => 'abcd'.repeat(n);
    expect(() => assertEmbeddingInput({ model: 'm', input: tokens(8191) }, small)).not.toThrow();
    expect(
      refusal(() => assertEmbeddingInput({ model: 'm', input: ['x', tokens(8192)] }, small)).message,
    ).toMatch(/input\[1\]' is about 8192 tokens; text-embedding-3-small takes at most 8191/);
    expect(
      refusal(() =>
        assertEmbeddingInput({ model: 'm', input: [Array(8000).fill(1)] }, model('text-embedding-004')),
      ).message,
    ).toMatch(/at most 2048 tokens/);
    const total = Array.from({ length: 40 }, () => tokens(8000)); // 320k tokens
    expect(refusal(() => assertEmbeddingInput({ model: 'm', input: total }, small)).message).toMatch(
      /320000 tokens in all/,
    );
  });
});

describe('dimensions', () => {
  it.each([
    ['openai', 'text-embedding-3-small', { min: 1, max: 1536 }],
    ['openai', 'text-embedding-3-large', { min: 1, max: 3072 }],
    ['openai', 'text-embedding-ada-002', 'unsupported'],
    ['google', 'gemini-embedding-001', { min: 128, max: 3072 }],
    ['google', 'text-embedding-004', { min: 1, max: 768 }],
    ['google', 'embedding-001', 'unsupported'],
    ['ollama', 'nomic-embed-text', 'unknown'],
  ])('knows each vendor model family: %s %s', (provider, upstream, support) => {
    expect(dimensionSupport({ provider, upstream })).toEqual(support);
  });

  it('must suit every candidate; unknown models pass it on', () => {
    expect(() => assertDimensions({ model: 'm', input: 'x', dimensions: 256 }, [small])).not.toThrow();
    expect(() =>
      assertDimensions({ model: 'm', input: 'x' }, [{ ...small, upstream: 'text-embedding-ada-002' }]),
    ).not.toThrow();
    expect(refusal(() => assertDimensions({ model: 'm', input: 'x', dimensions: 2000 }, [small]))).toEqual({
      status: 400,
      param: 'dimensions',
      message: expect.stringMatching(/1\.\.1536 for text-embedding-3-small; got 2000/),
    });
    const ada = { ...small, id: 'ada', upstream: 'text-embedding-ada-002' };
    expect(
      refusal(() => assertDimensions({ model: 'm', input: 'x', dimensions: 8 }, [small, ada])).message,
    ).toMatch(/not supported by ada/);
    const local = { ...small, provider: 'ollama', upstream: 'nomic-embed-text' };
    expect(() => assertDimensions({ model: 'm', input: 'x', dimensions: 99_999 }, [local])).not.toThrow();
  });
});
