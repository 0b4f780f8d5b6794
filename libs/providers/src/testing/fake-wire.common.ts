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
  usage: { prompt: number; completion: number } | false;
}

export const sse = (data: unknown, event?: string, crlf = false): string => {
  const nl = crlf ? '\r\n' : '\n';
  return (
    (event ? `event: ${event}${nl}` : '') +
    `data: ${typeof data === 'string' ? data : JSON.stringify(data)}${nl}${nl}`
  );
};
