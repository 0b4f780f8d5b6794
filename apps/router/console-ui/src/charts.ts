import { h, s } from './dom';

/**
 * Hand-drawn SVG charts: a line/area chart, stacked bars, horizontal bars and a budget meter.
 * A few hundred bytes each instead of a chart library; colours come from CSS classes (the page's
 * CSP allows no inline style), every chart has a text label and each point a <title> tooltip.
 */

const W = 640;
const H = 200;
const PAD = { l: 56, r: 12, t: 12, b: 28 };

export interface Series {
  name: string;
  values: number[];
  /** CSS class giving the colour (c1…c4). */
  tone: string;
}

/** A "nice" upper bound for the axis: 1, 2 or 5 times a power of ten. */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** Axis labels: a count axis up to 2 shows 0.5 steps as such, not rounded to a misleading 1. */
function tickText(t: number, max: number, format: (v: number) => string): string {
  return max <= 2 && !Number.isInteger(t) && format(t) === format(Math.round(t)) ? t.toFixed(1) : format(t);
}

function shortBucket(bucket: string, hourly: boolean): string {
  return hourly ? `${bucket.slice(5, 10)} ${bucket.slice(11, 16)}` : bucket.slice(5, 10);
}

function frame(
  label: string,
  max: number,
  format: (v: number) => string,
  buckets: string[],
  hourly: boolean,
) {
  const x = (i: number) =>
    PAD.l + (buckets.length <= 1 ? 0 : (i * (W - PAD.l - PAD.r)) / (buckets.length - 1));
  const y = (v: number) => H - PAD.b - (v / max) * (H - PAD.t - PAD.b);
  const ticks = [0, max / 2, max];
  const labelIdx = buckets.length <= 1 ? [0] : [0, Math.floor((buckets.length - 1) / 2), buckets.length - 1];
  const svg = s(
    'svg',
    {
      viewBox: `0 0 ${W} ${H}`,
      role: 'img',
      'aria-label': label,
      class: 'chart',
      preserveAspectRatio: 'none',
    },
    s('title', {}, label),
    ...ticks.map((t) =>
      s(
        'g',
        { class: 'grid' },
        s('line', { x1: PAD.l, x2: W - PAD.r, y1: y(t), y2: y(t) }),
        s('text', { x: PAD.l - 6, y: y(t) + 4, 'text-anchor': 'end' }, tickText(t, max, format)),
      ),
    ),
    ...labelIdx
      .filter((i) => buckets[i])
      .map((i) =>
        s(
          'text',
          {
            class: 'axis',
            x: x(i),
            y: H - 8,
            'text-anchor': i === 0 ? 'start' : i === buckets.length - 1 ? 'end' : 'middle',
          },
          shortBucket(buckets[i], hourly),
        ),
      ),
  );
  return { svg, x, y };
}

export function lineChart(opts: {
  label: string;
  buckets: string[];
  series: Series[];
  format: (v: number) => string;
  hourly: boolean;
}): HTMLElement {
  const max = niceMax(Math.max(0, ...opts.series.flatMap((x) => x.values)));
  const { svg, x, y } = frame(opts.label, max, opts.format, opts.buckets, opts.hourly);
  for (const ser of opts.series) {
    const pts = ser.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`);
    if (pts.length > 1) {
      const area = `M${x(0)},${y(0)} L${pts.join(' L')} L${x(ser.values.length - 1)},${y(0)} Z`;
      svg.append(s('path', { d: area, class: `area ${ser.tone}` }));
      svg.append(s('path', { d: `M${pts.join(' L')}`, class: `line ${ser.tone}` }));
    }
    ser.values.forEach((v, i) => {
      if (opts.series.length === 1 || v > 0)
        svg.append(
          s(
            'circle',
            { cx: x(i), cy: y(v), r: ser.values.length > 60 ? 1.5 : 3, class: `dot ${ser.tone}` },
            s('title', {}, `${opts.buckets[i]} — ${ser.name}: ${opts.format(v)}`),
          ),
        );
    });
  }
  return figure(opts.label, svg, opts.series);
}

export function stackedBars(opts: {
  label: string;
  buckets: string[];
  series: Series[];
  format: (v: number) => string;
  hourly: boolean;
}): HTMLElement {
  const totals = opts.buckets.map((_, i) => opts.series.reduce((n, ser) => n + (ser.values[i] ?? 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const { svg, x, y } = frame(opts.label, max, opts.format, opts.buckets, opts.hourly);
  const step = opts.buckets.length > 1 ? (W - PAD.l - PAD.r) / (opts.buckets.length - 1) : 40;
  const bw = Math.max(1, Math.min(24, step * 0.7));
  opts.buckets.forEach((b, i) => {
    let base = 0;
    for (const ser of opts.series) {
      const v = ser.values[i] ?? 0;
      if (v <= 0) continue;
      svg.append(
        s(
          'rect',
          {
            x: x(i) - bw / 2,
            y: y(base + v),
            width: bw,
            height: Math.max(0.5, y(base) - y(base + v)),
            class: `bar ${ser.tone}`,
          },
          s('title', {}, `${b} — ${ser.name}: ${opts.format(v)}`),
        ),
      );
      base += v;
    }
  });
  return figure(opts.label, svg, opts.series);
}

function figure(label: string, svg: SVGElement, series: Series[]): HTMLElement {
  return h(
    'figure',
    { class: 'chart-box' },
    h('figcaption', {}, label),
    svg,
    series.length > 1
      ? h(
          'ul',
          { class: 'legend' },
          series.map((ser) =>
            h(
              'li',
              {},
              s(
                'svg',
                { width: 10, height: 10, 'aria-hidden': 'true' },
                s('rect', { width: 10, height: 10, class: `bar ${ser.tone}` }),
              ),
              ser.name,
            ),
          ),
        )
      : null,
  );
}

/** Horizontal bars: top items by a value (keys or models by cost). */
export function hbars(opts: {
  label: string;
  items: { name: string; value: number }[];
  format: (v: number) => string;
}): HTMLElement {
  const rowH = 26;
  const width = 480;
  const labelW = 170;
  const max = Math.max(0, ...opts.items.map((i) => i.value)) || 1;
  const svg = s(
    'svg',
    {
      viewBox: `0 0 ${width} ${Math.max(rowH, opts.items.length * rowH)}`,
      role: 'img',
      'aria-label': opts.label,
      class: 'chart hbars',
    },
    s('title', {}, opts.label),
    ...opts.items.map((it, i) =>
      s(
        'g',
        {},
        s(
          'text',
          { x: 0, y: i * rowH + 17, class: 'axis' },
          it.name.length > 24 ? `${it.name.slice(0, 23)}…` : it.name,
        ),
        s(
          'rect',
          {
            x: labelW,
            y: i * rowH + 5,
            height: 16,
            width: Math.max(1, ((width - labelW - 90) * it.value) / max),
            class: 'bar c1',
          },
          s('title', {}, `${it.name}: ${opts.format(it.value)}`),
        ),
        s(
          'text',
          { x: width - 4, y: i * rowH + 17, 'text-anchor': 'end', class: 'axis' },
          opts.format(it.value),
        ),
      ),
    ),
  );
  return h(
    'figure',
    { class: 'chart-box' },
    h('figcaption', {}, opts.label),
    opts.items.length ? svg : h('p', { class: 'empty' }, 'No usage in this period.'),
  );
}

/** Month spend and reservations against the budget. */
export function budgetMeter(
  b: { spent: number; reserved: number; budget: number | null },
  format: (v: number) => string,
): HTMLElement {
  const total = b.budget ?? Math.max(b.spent + b.reserved, 1e-9);
  const w = 600;
  const sx = Math.min(w, (b.spent / total) * w);
  const rx = Math.min(w - sx, (b.reserved / total) * w);
  const label =
    b.budget === null
      ? `Spent ${format(b.spent)} this month, ${format(b.reserved)} reserved; no monthly budget set`
      : `Spent ${format(b.spent)} of ${format(b.budget)} this month, ${format(b.reserved)} reserved by calls in flight`;
  return h(
    'figure',
    { class: 'chart-box meter' },
    h('figcaption', {}, label),
    s(
      'svg',
      {
        viewBox: `0 0 ${w} 22`,
        role: 'img',
        'aria-label': label,
        class: 'chart',
        preserveAspectRatio: 'none',
      },
      s('rect', { x: 0, y: 0, width: w, height: 22, class: 'track' }),
      s('rect', {
        x: 0,
        y: 0,
        width: sx,
        height: 22,
        class: `bar ${b.budget !== null && b.spent >= b.budget ? 'c3' : 'c1'}`,
      }),
      s('rect', { x: sx, y: 0, width: rx, height: 22, class: 'bar c2' }),
    ),
  );
}
