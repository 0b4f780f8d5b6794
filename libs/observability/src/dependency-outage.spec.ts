import { DependencyOutage } from './dependency-outage';

describe('DependencyOutage', () => {
  let lines: string[];
  let now: number;
  const log = { warn: (m: string) => lines.push(`WARN ${m}`), log: (m: string) => lines.push(`INFO ${m}`) };

  beforeEach(() => {
    lines = [];
    now = 1_000_000;
    jest.useFakeTimers();
  });
  afterEach(() => jest.useRealTimers());

  it('logs an outage once when it starts, a summary with counts every period, once when it ends', () => {
    const o = new DependencyOutage('TestDb', { summaryEveryMs: 30_000, now: () => now, log });
    o.setProbe(() => Promise.reject(new Error('still down')));
    for (let i = 0; i < 1000; i++)
      o.failed(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), true);
    expect(lines).toEqual([
      'WARN TestDb unavailable (ECONNREFUSED: connect ECONNREFUSED): answering 503 or degrading until it returns',
    ]);
    expect(o.isDown).toBe(true);

    now += 30_000;
    jest.advanceTimersByTime(30_000);
    expect(lines[1]).toBe(
      'WARN TestDb still unavailable after 30 s: 1000 requests refused or degraded and 999 more errors in the last 30 s (1000 refused in all)',
    );
    for (let i = 0; i < 5; i++) o.refused();
    now += 15_000;
    o.recovered();
    expect(lines[2]).toBe(
      'INFO TestDb available again after 45.0 s (1005 requests refused or degraded meanwhile)',
    );
    expect(lines).toHaveLength(3);
    expect(o.isDown).toBe(false);
    o.recovered();
    expect(lines).toHaveLength(3);
  });

  it('a probe ends the outage in the background once the dependency answers', async () => {
    const o = new DependencyOutage('TestCache', { probeEveryMs: 1000, now: () => now, log });
    let answers = false;
    o.setProbe(async () => {
      if (!answers) throw new Error('still down');
    });
    o.failed(new Error('boom'));
    await jest.advanceTimersByTimeAsync(3000);
    expect(o.isDown).toBe(true);
    answers = true;
    await jest.advanceTimersByTimeAsync(1000);
    expect(o.isDown).toBe(false);
    expect(lines.map((l) => l.split(' ')[0])).toEqual(['WARN', 'INFO']);
    o.close();
  });

  it('with holders, the outage ends when the last holder recovers; without holder or probe a failure is only counted', () => {
    const o = new DependencyOutage('TestCache', { now: () => now, log });
    o.failed(new Error('a request failed'), true);
    expect(o.isDown).toBe(false);
    const a = {};
    const b = {};
    o.failed(new Error('connection lost'), false, a);
    o.failed(new Error('connection lost'), false, b);
    o.recovered(a);
    expect(o.isDown).toBe(true);
    o.recovered(b);
    expect(o.isDown).toBe(false);
    expect(lines.map((l) => l.split(' (')[0])).toEqual([
      'WARN TestCache unavailable',
      'INFO TestCache available again after 0.0 s',
    ]);
  });

  it('never logs a multi-line message past its first line', () => {
    const o = new DependencyOutage('TestDb', { now: () => now, log });
    o.setProbe(() => Promise.reject(new Error('still down')));
    o.failed(new Error('first line\nINSERT INTO secrets VALUES (...)'));
    expect(lines[0]).not.toContain('INSERT');
    o.close();
  });
});
