import type { FastifyReply } from 'fastify';
import type { StreamedCall } from '../pipeline/call';
import { openCallStream } from './event-stream';

/** A reply whose socket accepts the head or refuses it, as Node does for an invalid header value. */
function fakeReply(refuseHead: boolean) {
  const written: string[] = [];
  const raw = {
    destroyed: false,
    writableEnded: false,
    writeHead: jest.fn(() => {
      if (refuseHead) throw new TypeError('Invalid character in header content ["x-atp-route"]');
    }),
    write: (frame: string) => (written.push(frame), true),
    cork: () => undefined,
    uncork: () => undefined,
    end: jest.fn(),
  };
  const reply = { hijack: jest.fn(), raw, request: { id: 'req-1' } } as unknown as FastifyReply;
  return { reply, raw, written };
}

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
