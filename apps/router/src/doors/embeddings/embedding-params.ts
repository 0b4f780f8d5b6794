import { type EmbeddingRequest, EmbeddingRequestSchema, type EmbeddingResponse } from '@app/providers';
import { parseWith } from '../parse-body';

/** Validates an embeddings request against OpenAI's schema, naming the first bad field. */
export const parseEmbeddingRequest = (body: unknown): EmbeddingRequest =>
  parseWith(EmbeddingRequestSchema, body);

/** OpenAI's `encoding_format: "base64"`: the vector as little-endian float32 bytes, base64. */
export function base64Embedding(values: readonly number[]): string {
  const buf = Buffer.allocUnsafe(values.length * 4);
  values.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  return buf.toString('base64');
}

/** The embeddings response as the client asked for it (floats, or base64 strings). */
export type WireEmbeddingResponse = Omit<EmbeddingResponse, 'data'> & {
  data: { object: 'embedding'; index: number; embedding: number[] | string }[];
};

export function encodeEmbeddings(
  res: EmbeddingResponse,
  format: EmbeddingRequest['encoding_format'],
): WireEmbeddingResponse {
  if (format !== 'base64') return res;
  return { ...res, data: res.data.map((d) => ({ ...d, embedding: base64Embedding(d.embedding) })) };
}
