/** One Server-Sent Event (https://html.spec.whatwg.org/multipage/server-sent-events.html). */
export interface SseEvent {
  /** `event:` field; `message` when absent. */
  event: string;
  /** `data:` lines joined with `\n`. */
  data: string;
  id?: string;
  retry?: number;
}

/**
 * Incremental SSE parser: feed it text (or bytes) as it arrives, in arbitrary pieces, and it
 * returns the complete events. Handles LF, CRLF and CR line ends (also a CRLF split across two
 * pieces), multi-line `data:`, comments (`: keep-alive`), and UTF-8 sequences split across pieces.
 */
export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private buffer = '';
  private skipLeadingLf = false;
  private event = '';
  private data: string[] = [];
  private hasData = false;
  private id: string | undefined;
  private retry: number | undefined;

  feed(piece: string | Uint8Array): SseEvent[] {
    const text = typeof piece === 'string' ? piece : this.decoder.decode(piece, { stream: true });
    this.buffer += text;
    const events: SseEvent[] = [];
    if (!this.skipLeadingLf && this.buffer.indexOf('\r') === -1) {
      // The common case (LF line ends only): find the line ends natively.
      let from = 0;
      for (let nl = this.buffer.indexOf('\n'); nl !== -1; nl = this.buffer.indexOf('\n', from)) {
        const ev = this.line(this.buffer.slice(from, nl));
        from = nl + 1;
        if (ev) events.push(ev);
      }
      this.buffer = this.buffer.slice(from);
      return events;
    }
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const ch = this.buffer.charCodeAt(i);
      if (ch === 10 && this.skipLeadingLf && i === start) {
        // the LF of a CRLF whose CR ended the previous piece
        start = i + 1;
        this.skipLeadingLf = false;
        continue;
      }
      this.skipLeadingLf = false;
      if (ch !== 10 && ch !== 13) continue;
      const line = this.buffer.slice(start, i);
      if (ch === 13) {
        if (i + 1 < this.buffer.length) {
          if (this.buffer.charCodeAt(i + 1) === 10) i++;
        } else this.skipLeadingLf = true;
      }
      start = i + 1;
      const ev = this.line(line);
      if (ev) events.push(ev);
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  /** True when bytes of an unfinished event are pending (a stream cut mid-event). */
  get pending(): boolean {
    return this.buffer.length > 0 || this.hasData || this.event !== '';
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      this.data.push(value);
      this.hasData = true;
    } else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    const hasData = this.hasData;
    const ev: SseEvent = { event: this.event || 'message', data: this.data.join('\n') };
    if (this.id !== undefined) ev.id = this.id;
    if (this.retry !== undefined) ev.retry = this.retry;
    this.event = '';
    this.data = [];
    this.hasData = false;
    this.retry = undefined;
    return hasData ? ev : undefined;
  }
}

/** Parses a byte stream into events. */
export async function* parseSse(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const parser = new SseParser();
  for await (const piece of body) yield* parser.feed(piece);
}
