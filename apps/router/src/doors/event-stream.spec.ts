import { EventEmitter } from 'node:events';
import type { FastifyReply } from 'fastify';
import type { StreamedCall } from '../pipeline/call';
import { openCallStream, openEventStream } from './event-stream';

/**
 * A reply whose socket accepts the head or refuses it, as Node does for an invalid header value;
 * `full`: what write() answers (false: over the high-water mark, wait for 'drain').
 */
function fakeReply(refuseHead: boolean) {
  const written: string[] = [];
  const raw = Object.assign(new EventEmitter(), {
    destroyed: false,
    writableEnded: false,
    full: false,
    writeHead: jest.fn(() => {
      if (refuseHead) throw new TypeError('Invalid character in header content ["x-atp-route"]');
    }),
    write: (frame: string) => (written.push(frame), !raw.full),
    end: jest.fn(() => {
      raw.writableEnded = true;
    }),
  });
  const reply = { hijack: jest.fn(), raw, request: { id: 'req-1' } } as unknown as FastifyReply;
  return { reply, raw, written };
}

/** Lets the queued process.nextTick callbacks (the writer's end-of-tick write) run. */
const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve));

function fakeCall(): StreamedCall & { cancel: jest.Mock } {
  return {
    meta: { headers: { 'x-atp-route': 'r' } } as unknown as StreamedCall['meta'],
    chunks: (async function* () {})(),
    cancel: jest.fn(async () => undefined),
  };
}

describe('openCallStream', () => {
  it('writes the head with the call headers and the request id, and leaves the call running', async () => {
    const { reply, raw, written } = fakeReply(false);
    const call = fakeCall();
    const out = await openCallStream(reply, call);
    expect(raw.writeHead).toHaveBeenCalledWith(
      200,
      expect.objectContaining({ 'x-request-id': 'req-1', 'x-atp-route': 'r' }),
    );
    await out.event('ping', '{}');
    await nextTick();
    expect(written).toEqual(['event: ping\ndata: {}\n\n']);
    expect(call.cancel).not.toHaveBeenCalled();
  });

  it('cancels the call (upstream stopped, ledger closed) before the error goes on when the head cannot be written', async () => {
    const { reply } = fakeReply(true);
    const call = fakeCall();
    await expect(openCallStream(reply, call)).rejects.toThrow('Invalid character');
    expect(call.cancel).toHaveBeenCalledTimes(1);
  });
});

describe('openEventStream', () => {
  it('writes the events of one tick in one write, in order, and each later tick in its own', async () => {
    const { reply, written } = fakeReply(false);
    const out = openEventStream(reply, {});
    await Promise.all([out.event(null, '1'), out.event('named', '2'), out.event(null, '[DONE]')]);
    expect(written).toEqual([]);
    await nextTick();
    expect(written).toEqual(['data: 1\n\nevent: named\ndata: 2\n\ndata: [DONE]\n\n']);
    await out.event(null, '3');
    await nextTick();
    expect(written).toEqual(['data: 1\n\nevent: named\ndata: 2\n\ndata: [DONE]\n\n', 'data: 3\n\n']);
  });

  it('writes a large tick as soon as it passes 64 KiB, not all at its end', async () => {
    const { reply, written } = fakeReply(false);
    const out = openEventStream(reply, {});
    const big = 'x'.repeat(40 * 1024);
    await out.event(null, big);
    await out.event(null, big);
    expect(written).toEqual([`data: ${big}\n\ndata: ${big}\n\n`]);
    await out.event(null, 'tail');
    await nextTick();
    expect(written.at(-1)).toBe('data: tail\n\n');
  });

  it('end() writes what the tick still holds before it ends the reply', async () => {
    const { reply, raw, written } = fakeReply(false);
    const out = openEventStream(reply, {});
    await out.event(null, 'last');
    out.end();
    expect(written).toEqual(['data: last\n\n']);
    expect(raw.end).toHaveBeenCalledTimes(1);
    await nextTick();
    expect(written).toHaveLength(1);
  });

  it('holds the next event while the socket is over its high-water mark, until it drains', async () => {
    const { reply, raw, written } = fakeReply(false);
    const out = openEventStream(reply, {});
    raw.full = true;
    await out.event(null, 'a');
    await nextTick();
    expect(written).toEqual(['data: a\n\n']);
    let sent = false;
    const next = out.event(null, 'b').then(() => (sent = true));
    await nextTick();
    await new Promise((r) => setImmediate(r));
    expect(sent).toBe(false);
    raw.full = false;
    raw.emit('drain');
    await next;
    await nextTick();
    expect(written).toEqual(['data: a\n\n', 'data: b\n\n']);
  });

  it('stops writing once the client is gone, and a close releases a waiting event', async () => {
    const { reply, raw, written } = fakeReply(false);
    const out = openEventStream(reply, {});
    raw.full = true;
    await out.event(null, 'a');
    await nextTick();
    const next = out.event(null, 'b');
    raw.destroyed = true;
    raw.emit('close');
    await next;
    await nextTick();
    expect(written).toEqual(['data: a\n\n']);
    expect(out.closed).toBe(true);
  });
});
