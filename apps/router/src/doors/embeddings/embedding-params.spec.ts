import { base64Embedding, encodeEmbeddings } from './embedding-params';

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
