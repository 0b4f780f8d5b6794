import { CallAbort } from './call-abort';

describe('CallAbort', () => {
  it('calls each listener once, in order, with the reason set; later aborts change nothing', () => {
    const a = new CallAbort();
    const seen: string[] = [];
    a.addEventListener('abort', () => seen.push(`first:${String(a.reason)}`));
    a.addEventListener('abort', () => seen.push('second'));
    expect(a.aborted).toBe(false);
    a.abort('gone');
    a.abort('again');
    expect(a.aborted).toBe(true);
    expect(a.reason).toBe('gone');
    expect(seen).toEqual(['first:gone', 'second']);
  });

  it('forgets a removed listener, and takes none once aborted', () => {
    const a = new CallAbort();
    const removed = jest.fn();
    const kept = jest.fn();
    a.addEventListener('abort', removed);
    a.addEventListener('abort', kept);
    a.removeEventListener('abort', removed);
    a.abort();
    expect(removed).not.toHaveBeenCalled();
    expect(kept).toHaveBeenCalledTimes(1);
    expect(a.reason).toBeInstanceOf(Error);
    const late = jest.fn();
    a.addEventListener('abort', late);
    expect(late).not.toHaveBeenCalled();
  });

  it('a listener that removes itself while aborting does not skip the next one', () => {
    const a = new CallAbort();
    const next = jest.fn();
    const self = () => a.removeEventListener('abort', self);
    a.addEventListener('abort', self);
    a.addEventListener('abort', next);
    a.abort();
    expect(next).toHaveBeenCalledTimes(1);
  });
});
