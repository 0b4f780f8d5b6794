import { ConnectionGate } from './connection-gate';

describe('ConnectionGate', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const fail = () => new Error('pool exhausted');

  it('grants up to capacity at once, then queues in FIFO order and hands released slots over', async () => {
    const gate = new ConnectionGate(2, 1000);
    expect(gate.tryAcquire()).toBe(true);
    expect(gate.tryAcquire()).toBe(true);
    expect(gate.tryAcquire()).toBe(false);
    const order: string[] = [];
    const a = gate.wait(fail).granted.then(() => order.push('a'));
    const b = gate.wait(fail).granted.then(() => order.push('b'));
    expect(gate.stats()).toEqual({ capacity: 2, inUse: 2, waiting: 2, rejected: 0 });
    gate.release();
    await a;
    expect(order).toEqual(['a']);
    gate.release();
    await b;
    expect(order).toEqual(['a', 'b']);
    expect(gate.stats()).toEqual({ capacity: 2, inUse: 2, waiting: 0, rejected: 0 });
    gate.release();
    gate.release();
    expect(gate.stats().inUse).toBe(0);
  });

  it('a waiter that gets no slot within the queue timeout fails with the given error', async () => {
    const gate = new ConnectionGate(1, 500);
    gate.tryAcquire();
    const waited = gate.wait(fail).granted;
    jest.advanceTimersByTime(499);
    expect(gate.stats().waiting).toBe(1);
    jest.advanceTimersByTime(1);
    await expect(waited).rejects.toThrow('pool exhausted');
    expect(gate.stats()).toEqual({ capacity: 1, inUse: 1, waiting: 0, rejected: 1 });
    // The slot released later goes back to the pool, not to the timed-out waiter.
    gate.release();
    expect(gate.stats().inUse).toBe(0);
  });

  it('fails at once with a zero queue timeout or a full queue', async () => {
    const noWait = new ConnectionGate(1, 0);
    noWait.tryAcquire();
    await expect(noWait.wait(fail).granted).rejects.toThrow('pool exhausted');

    const small = new ConnectionGate(1, 1000, 1);
    small.tryAcquire();
    const first = small.wait(fail);
    await expect(small.wait(fail).granted).rejects.toThrow('pool exhausted');
    expect(small.stats()).toMatchObject({ waiting: 1, rejected: 1 });
    first.cancel(new Error('gone'));
    await expect(first.granted).rejects.toThrow('gone');
  });

  it('a cancelled waiter leaves the queue and is not counted as rejected', async () => {
    const gate = new ConnectionGate(1, 1000);
    gate.tryAcquire();
    const w = gate.wait(fail);
    w.cancel(new Error('client went away'));
    await expect(w.granted).rejects.toThrow('client went away');
    expect(gate.stats()).toEqual({ capacity: 1, inUse: 1, waiting: 0, rejected: 0 });
  });

  it('tryAcquire does not jump the queue', () => {
    const gate = new ConnectionGate(1, 1000);
    gate.tryAcquire();
    void gate.wait(fail).granted;
    gate.release(); // handed to the waiter
    expect(gate.tryAcquire()).toBe(false);
  });
});
