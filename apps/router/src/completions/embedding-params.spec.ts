import { AtpError } from '@app/common';
import { BUILTIN_MODELS, type CatalogModel } from '../routing/catalog';
import {
  assertDimensions,
  assertEmbeddingInput,
  base64Embedding,
  dimensionSupport,
  encodeEmbeddings,
} from './embedding-params';

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
  it('knows each vendor model family', () => {
    expect(dimensionSupport({ provider: 'openai', upstream: 'text-embedding-3-small' })).toEqual({
      min: 1,
      max: 1536,
    });
    expect(dimensionSupport({ provider: 'openai', upstream: 'text-embedding-3-large' })).toEqual({
      min: 1,
      max: 3072,
    });
    expect(dimensionSupport({ provider: 'openai', upstream: 'text-embedding-ada-002' })).toBe('unsupported');
    expect(dimensionSupport({ provider: 'google', upstream: 'gemini-embedding-001' })).toEqual({
      min: 128,
      max: 3072,
    });
    expect(dimensionSupport({ provider: 'google', upstream: 'text-embedding-004' })).toEqual({
      min: 1,
      max: 768,
    });
    expect(dimensionSupport({ provider: 'google', upstream: 'embedding-001' })).toBe('unsupported');
    expect(dimensionSupport({ provider: 'ollama', upstream: 'nomic-embed-text' })).toBe('unknown');
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

describe('encoding_format', () => {
  it('base64 is little-endian float32, as OpenAI sends it', () => {
    // 1.0f = 0x3f800000, -2.5f = 0xc0200000, little-endian.
    expect(Buffer.from(base64Embedding([1, -2.5]), 'base64')).toEqual(
      Buffer.from([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0]),
    );
    const res = {
      object: 'list' as const,
      model: 'm',
      data: [{ object: 'embedding' as const, index: 0, embedding: [0.1, 0.2] }],
      usage: { prompt_tokens: 1, total_tokens: 1 },
    };
    expect(encodeEmbeddings(res, 'float')).toBe(res);
    expect(encodeEmbeddings(res, undefined)).toBe(res);
    const b64 = encodeEmbeddings(res, 'base64').data[0].embedding as string;
    const buf = Buffer.from(b64, 'base64');
    expect([buf.readFloatLE(0), buf.readFloatLE(4)]).toEqual([Math.fround(0.1), Math.fround(0.2)]);
  });
});
