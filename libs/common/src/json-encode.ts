import { Readable } from 'node:stream';
import { LARGE_JSON_BYTES } from './json-body';
import { heavyWork } from './loop-lane';

/** UTF-16 code units per encoding slice: ~0.3–1 ms of `Buffer.from` on the bench VM. */
const SLICE_CHARS = 128 * 1024;

/** A JSON body as UTF-8 chunks, and their total length (for Content-Length). */
export interface EncodedJson {
  chunks: Buffer[];
  length: number;
}

/**
 * UTF-8 encoding of a large JSON text in {@link heavyWork} slices of {@link SLICE_CHARS}: done in
 * one go, a 1 MB upstream body held the loop ~3–8 ms, and four of them back to back (issue 15).
 */
export async function encodeInSlices(text: string): Promise<EncodedJson> {
  const chunks: Buffer[] = [];
  let length = 0;
  for (let at = 0; at < text.length;) {
    const from = at;
    const to = sliceEnd(text, from + SLICE_CHARS);
    const chunk = await heavyWork.run(() => Buffer.from(text.slice(from, to), 'utf8'));
    chunks.push(chunk);
    length += chunk.length;
    at = to;
  }
  return { chunks, length };
}

/** `end`, or one before it when that would split a surrogate pair (each half would become U+FFFD). */
function sliceEnd(text: string, end: number): number {
  if (end >= text.length) return text.length;
  const last = text.charCodeAt(end - 1);
  return last >= 0xd800 && last <= 0xdbff ? end - 1 : end;
}

/**
 * Chunks as a body, one 64 KiB piece per turn of the loop: a 1 MB body written in one call held
 * the loop ~5–7 ms in the kernel copy (profiled), and four responses or upstream bodies written
 * together held it for all four.
 */
export async function* pacedChunks(chunks: Buffer[]): AsyncGenerator<Buffer> {
  for (const chunk of chunks) {
    for (let at = 0; at < chunk.length; at += WRITE_BYTES) {
      yield chunk.subarray(at, Math.min(chunk.length, at + WRITE_BYTES));
      await heavyWork.run(() => undefined);
    }
  }
}

/** {@link pacedChunks} as a byte stream: what undici and Fastify take as a body. */
export function pacedStream(chunks: Buffer[]): Readable {
  return Readable.from(pacedChunks(chunks), { objectMode: false });
}

/** A reply of `bytes`: as it is when small; from {@link LARGE_JSON_BYTES} on, written in paced pieces. */
export function pacedBody(bytes: Buffer): Buffer | Readable {
  return bytes.length < LARGE_JSON_BYTES ? bytes : pacedStream([bytes]);
}

const WRITE_BYTES = 64 * 1024;
