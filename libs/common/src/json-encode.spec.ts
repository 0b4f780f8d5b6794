import { Readable } from 'node:stream';
import { encodeInSlices, pacedBody, pacedChunks } from './json-encode';

const collect = async (it: AsyncIterable<Buffer>) => {
  const parts: Buffer[] = [];
  for await (const p of it) parts.push(p);
  return parts;
};

describe('JSON encoding in slices', () => {
  it('gives exactly the bytes of JSON.stringify, also with surrogate pairs and escapes at every slice edge', async () => {
    // 4-byte characters (surrogate pairs), 2- and 3-byte ones, quotes, backslashes and control
    // characters, repeated past several 128 Ki-character slices at odd offsets.
    const unit = 'a😀é"\\\n€\u0001𝄞';
    for (const pad of [0, 1, 2, 3]) {
      const value = {
        model: 'm',
        messages: [{ role: 'user', content: 'x'.repeat(pad) + unit.repeat(60_000) }],
      };
      const encoded = await encodeInSlices(JSON.stringify(value));
      const bytes = Buffer.concat(encoded.chunks);
      expect(encoded.length).toBe(bytes.length);
      expect(bytes.equals(Buffer.from(JSON.stringify(value)))).toBe(true);
      expect(encoded.chunks.length).toBeGreaterThan(3);
    }
  });

  it('paces chunks in pieces of at most 64 KiB, losing nothing', async () => {
    const a = Buffer.alloc(200_000, 1);
    const b = Buffer.alloc(10, 2);
    const parts = await collect(pacedChunks([a, b]));
    expect(Math.max(...parts.map((p) => p.length))).toBe(64 * 1024);
    expect(Buffer.concat(parts).equals(Buffer.concat([a, b]))).toBe(true);
  });

  it('a small reply stays a Buffer; a large one becomes a stream of the same bytes', async () => {
    const small = Buffer.from('{"ok":true}');
    expect(pacedBody(small)).toBe(small);
    const large = Buffer.alloc(300_000, 7);
    const body = pacedBody(large);
    expect(body).toBeInstanceOf(Readable);
    expect(Buffer.concat(await collect(body as Readable)).equals(large)).toBe(true);
  });
});
