import { AtpError } from '@app/common';
import type { Granularity } from './console-stats.repository';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The longest period one overview covers (hourly rollups: 400 days is ~10k buckets at most). */
const MAX_SPAN_MS = 400 * DAY_MS;

export interface Period {
  start: Date;
  end: Date;
  granularity: Granularity;
}

function parseInstant(value: unknown, param: string): Date | null {
  if (value === undefined || value === '') return null;
  if (typeof value !== 'string')
    throw AtpError.badRequest('invalid_request', `'${param}' must be one ISO date`, param);
  const d = new Date(value);
  if (Number.isNaN(d.getTime()))
    throw AtpError.badRequest(
      'invalid_request',
      `'${param}' must be an ISO date such as 2026-12-01T00:00:00Z`,
      param,
    );
  return d;
}

/**
 * The overview's period: whole UTC hours (the rollups' unit), `end` rounded up and `start` down,
 * 7 days back by default; hourly buckets up to 2 days, daily beyond unless asked.
 */
export function overviewPeriod(
  q: { start?: unknown; end?: unknown; granularity?: unknown },
  now = Date.now(),
): Period {
  const endRaw = parseInstant(q.end, 'end')?.getTime() ?? now;
  const end = Math.ceil(endRaw / HOUR_MS) * HOUR_MS;
  const startRaw = parseInstant(q.start, 'start')?.getTime() ?? end - 7 * DAY_MS;
  const start = Math.floor(startRaw / HOUR_MS) * HOUR_MS;
  if (start >= end) throw AtpError.badRequest('invalid_request', "'start' must be before 'end'", 'start');
  if (end - start > MAX_SPAN_MS)
    throw AtpError.badRequest('invalid_request', 'The period can be at most 400 days long', 'start');
  const g = q.granularity;
  if (g !== undefined && g !== '' && g !== 'hour' && g !== 'day')
    throw AtpError.badRequest('invalid_request', "'granularity' must be hour or day", 'granularity');
  const granularity: Granularity =
    g === 'hour' || g === 'day' ? g : end - start <= 2 * DAY_MS ? 'hour' : 'day';
  // 168 points already fill a chart; a month of hours (720) cost 3x the daily view (bench/console.mjs).
  if (granularity === 'hour' && end - start > 7 * DAY_MS + HOUR_MS)
    throw AtpError.badRequest(
      'invalid_request',
      'Hourly buckets cover at most 7 days: choose daily buckets',
      'granularity',
    );
  return { start: new Date(start), end: new Date(end), granularity };
}

/** The Requests log's window: any instants, 24 hours back by default, at most 400 days. */
export function logWindow(
  q: { start?: unknown; end?: unknown },
  now = Date.now(),
): { start: Date; end: Date } {
  const end = parseInstant(q.end, 'end') ?? new Date(now + 1000);
  const start = parseInstant(q.start, 'start') ?? new Date(end.getTime() - DAY_MS);
  if (start >= end) throw AtpError.badRequest('invalid_request', "'start' must be before 'end'", 'start');
  if (end.getTime() - start.getTime() > MAX_SPAN_MS)
    throw AtpError.badRequest('invalid_request', 'The window can be at most 400 days long', 'start');
  return { start, end };
}

/** The first instant of the current UTC month. */
export function monthStart(now = Date.now()): Date {
  const d = new Date(now);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
}

/** Every bucket of a period, so a chart shows gaps as zeros. */
export function bucketsOf(p: Period): string[] {
  const step = p.granularity === 'hour' ? HOUR_MS : DAY_MS;
  const first =
    p.granularity === 'hour' ? p.start.getTime() : Math.floor(p.start.getTime() / DAY_MS) * DAY_MS;
  const out: string[] = [];
  for (let t = first; t < p.end.getTime(); t += step)
    out.push(new Date(t).toISOString().replace('.000Z', 'Z'));
  return out;
}
