import { createHash } from 'node:crypto';

/**
 * Response bodies in each vendor's real wire format (JSON and SSE event strings), used by the
 * fake upstream servers. Streams are lists of complete SSE events so faults can cut them anywhere.
 */

export type FakeFinish = 'stop' | 'length' | 'content_filter';

export interface FakeReply {
  id: string;
  model: string;
  pieces: string[];
  toolCalls: { id: string; name: string; arguments: Record<string, unknown> }[];
  finish: FakeFinish;
  usage: FakeUsage | false;
  /** Anthropic extended thinking: the thinking text (signed `sig-<id>`), or null. */
  thinking: string | null;
}

/** `prompt` counts the uncached prompt tokens; cache reads and writes come on top. */
export interface FakeUsage {
  prompt: number;
  completion: number;
  cacheRead?: number;
  cacheWrite?: number;
}

export const sse = (data: unknown, event?: string, crlf = false): string => {
  const nl = crlf ? '\r\n' : '\n';
  return (
    (event ? `event: ${event}${nl}` : '') +
    `data: ${typeof data === 'string' ? data : JSON.stringify(data)}${nl}${nl}`
  );
};

/** A deterministic embedding: the same text gives the same vector (any vendor's fake). */
export function fakeVector(text: string, dims: number): number[] {
  const out: number[] = [];
  for (let block = 0; out.length < dims; block++) {
    const d = createHash('sha256').update(`${block}|${text}`).digest();
    for (let i = 0; i < d.length && out.length < dims; i += 4) out.push(d.readInt32BE(i) / 2 ** 31);
  }
  return out;
}
