import { parseSse, SseParser } from './sse';

describe('SseParser', () => {
  it('parses LF-framed events with event names', () => {
    const p = new SseParser();
    const events = p.feed('event: message_start\ndata: {"a":1}\n\nevent: ping\ndata: {}\n\n');
    expect(events).toEqual([
      { event: 'message_start', data: '{"a":1}' },
      { event: 'ping', data: '{}' },
    ]);
    expect(p.pending).toBe(false);
  });

  it('handles CRLF and CR line ends, also a CRLF split across pieces', () => {
    const p = new SseParser();
    expect(p.feed('data: one\r\n\r\ndata: two\r')).toEqual([{ event: 'message', data: 'one' }]);
    expect(p.feed('\n\r')).toEqual([{ event: 'message', data: 'two' }]);
    expect(p.feed('\ndata: three\r\r')).toEqual([{ event: 'message', data: 'three' }]);
  });

  it('joins multi-line data with \\n and strips one leading space only', () => {
    const p = new SseParser();
    expect(p.feed('data: line1\ndata:  line2\ndata\n\n')).toEqual([
      { event: 'message', data: 'line1\n line2\n' },
    ]);
  });

  it('ignores comments / keep-alives and events without data', () => {
    const p = new SseParser();
    expect(p.feed(': keep-alive\n\n:ping\n\nevent: lonely\n\nid: 7\nretry: 50\ndata: x\n\n')).toEqual([
      { event: 'message', data: 'x', id: '7', retry: 50 },
    ]);
  });

  it('reassembles events split at every possible byte boundary, including inside UTF-8 characters', () => {
    const text = 'event: delta\r\ndata: {"t":"héllo 👋"}\r\n\r\n: comment\ndata: [DONE]\n\n';
    const bytes = new TextEncoder().encode(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const p = new SseParser();
      const events = [...p.feed(bytes.slice(0, cut)), ...p.feed(bytes.slice(cut))];
      expect(events).toEqual([
        { event: 'delta', data: '{"t":"héllo 👋"}' },
        { event: 'message', data: '[DONE]' },
      ]);
    }
  });

  it('reports a pending, unfinished event (stream cut mid-event)', () => {
    const p = new SseParser();
    expect(p.feed('data: {"partial": tr')).toEqual([]);
    expect(p.pending).toBe(true);
    const q = new SseParser();
    q.feed('data: complete\n');
    expect(q.pending).toBe(true);
  });

  it('parseSse iterates a byte stream one byte at a time', async () => {
    const bytes = new TextEncoder().encode('data: a\n\ndata: b\n\n');
    async function* source() {
      for (const b of bytes) yield new Uint8Array([b]);
    }
    const out: string[] = [];
    for await (const ev of parseSse(source())) out.push(ev.data);
    expect(out).toEqual(['a', 'b']);
  });
});
