import { AtpError } from '@app/common';
import { bucketsOf, logWindow, monthStart, overviewPeriod } from './console-period';

const NOW = Date.parse('2026-12-07T05:40:00Z');

describe('console periods', () => {
  it('defaults to 7 days of whole hours, daily buckets; hourly up to 2 days', () => {
    const p = overviewPeriod({}, NOW);
    expect(p.end.toISOString()).toBe('2026-12-07T06:00:00.000Z');
    expect(p.start.toISOString()).toBe('2026-11-30T06:00:00.000Z');
    expect(p.granularity).toBe('day');
    const day = overviewPeriod({ start: '2026-12-06T05:40:00Z' }, NOW);
    expect(day.start.toISOString()).toBe('2026-12-06T05:00:00.000Z');
    expect(day.granularity).toBe('hour');
    expect(bucketsOf(day)).toHaveLength(25);
    expect(bucketsOf(day)[0]).toBe('2026-12-06T05:00:00Z');
  });

  it('daily buckets start at UTC midnight and cover the period', () => {
    const b = bucketsOf(overviewPeriod({ start: '2026-12-01T10:00:00Z', granularity: 'day' }, NOW));
    expect(b).toEqual([
      '2026-12-01T00:00:00Z',
      '2026-12-02T00:00:00Z',
      '2026-12-03T00:00:00Z',
      '2026-12-04T00:00:00Z',
      '2026-12-05T00:00:00Z',
      '2026-12-06T00:00:00Z',
      '2026-12-07T00:00:00Z',
    ]);
  });

  it('refuses bad input with a 400 naming the parameter', () => {
    const param = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof AtpError && e.status === 400 ? e.param : 'other';
      }
      return 'none';
    };
    expect(param(() => overviewPeriod({ start: 'yesterday' }, NOW))).toBe('start');
    expect(param(() => overviewPeriod({ start: '2026-12-08T00:00:00Z' }, NOW))).toBe('start');
    expect(param(() => overviewPeriod({ granularity: 'minute' }, NOW))).toBe('granularity');
    expect(param(() => overviewPeriod({ start: '2026-11-20T00:00:00Z', granularity: 'hour' }, NOW))).toBe(
      'granularity',
    );
    expect(overviewPeriod({ start: '2026-11-30T05:40:00Z', granularity: 'hour' }, NOW).granularity).toBe(
      'hour',
    );
    expect(param(() => overviewPeriod({ start: '2020-01-01T00:00:00Z' }, NOW))).toBe('start');
    expect(param(() => logWindow({ end: '2026-01-01T00:00:00Z', start: '2026-02-01T00:00:00Z' }, NOW))).toBe(
      'start',
    );
  });

  it('knows the first instant of the UTC month', () => {
    expect(monthStart(NOW).toISOString()).toBe('2026-12-01T00:00:00.000Z');
  });
});
