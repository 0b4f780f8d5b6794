import { Counter, Registry } from 'prom-client';
import { labelled } from './metrics';

describe('labelled', () => {
  it('memoises one child per label tuple; increments land on the right series', async () => {
    const registry = new Registry();
    const c = new Counter({ name: 't_total', help: 'h', labelNames: ['a', 'b'], registers: [registry] });
    const child = labelled(c);
    expect(child('x', 'y')).toBe(child('x', 'y'));
    child('x', 'y').inc();
    child('x', 'y').inc(2);
    child('x', 'z').inc();
    const values = (await c.get()).values.map((v) => [v.labels, v.value]);
    expect(values).toEqual([
      [{ a: 'x', b: 'y' }, 3],
      [{ a: 'x', b: 'z' }, 1],
    ]);
    // reset() (tests do it) does not strand the memoised children
    c.reset();
    child('x', 'y').inc();
    expect((await c.get()).values).toEqual([expect.objectContaining({ value: 1 })]);
  });
});
