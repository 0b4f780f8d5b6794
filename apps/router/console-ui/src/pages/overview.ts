import { get } from '../api';
import { budgetMeter, hbars, lineChart, stackedBars } from '../charts';
import { count, empty, errorBox, field, h, money, mount, percent, spinner } from '../dom';

interface M {
  requests: number;
  errors: number;
  error_rate: number;
  total_tokens: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
  avg_latency_ms: number;
}
interface Overview {
  period: { start: string; end: string; granularity: 'hour' | 'day' };
  totals: M;
  series: (M & { bucket: string; refused: Record<string, number> })[];
  refusals: Record<string, number>;
  by_model: (M & { model: string })[];
  by_provider: (M & { provider: string })[];
  by_key: (M & { api_key_id: string | null; name: string | null; revoked: boolean })[];
  by_route: (M & { route: string })[];
  budget: {
    month: string;
    monthly_budget_usd: number | null;
    spent_usd: number;
    reserved_usd: number;
    remaining_usd: number | null;
  };
}

const PERIODS: Record<string, { hours: number; label: string }> = {
  '24h': { hours: 24, label: 'Last 24 hours' },
  '7d': { hours: 24 * 7, label: 'Last 7 days' },
  '30d': { hours: 24 * 30, label: 'Last 30 days' },
  '90d': { hours: 24 * 90, label: 'Last 90 days' },
};

/** A number card; `data-value` holds the exact number (the browser test compares it with the API). */
function kpi(name: string, label: string, value: number, text: string, sub?: string): HTMLElement {
  return h(
    'div',
    { class: 'kpi card', 'data-kpi': name, 'data-value': String(value) },
    h('span', { class: 'kpi-label' }, label),
    h('strong', { class: 'kpi-value' }, text),
    sub ? h('span', { class: 'kpi-sub' }, sub) : null,
  );
}

function table<T>(
  caption: string,
  rows: T[],
  cols: { label: string; value: (r: T) => string; num?: boolean }[],
): HTMLElement {
  if (!rows.length)
    return h('section', { class: 'card' }, h('h3', {}, caption), empty('No usage in this period.'));
  return h(
    'section',
    { class: 'card table-wrap' },
    h(
      'table',
      {},
      h('caption', {}, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          cols.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : '' }, c.label)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h(
            'tr',
            {},
            cols.map((c) => h('td', { class: c.num ? 'num' : '' }, c.value(r))),
          ),
        ),
      ),
    ),
  );
}

function measureCols<T extends M>(): { label: string; value: (r: T) => string; num?: boolean }[] {
  return [
    { label: 'Requests', value: (r) => count(r.requests), num: true },
    { label: 'Tokens', value: (r) => count(r.total_tokens), num: true },
    { label: 'Cost', value: (r) => money(r.cost_usd), num: true },
    { label: 'Error rate', value: (r) => percent(r.error_rate), num: true },
    { label: 'Avg latency', value: (r) => `${count(r.avg_latency_ms)} ms`, num: true },
  ];
}

export function overviewPage(main: HTMLElement): void {
  const period = h(
    'select',
    {},
    Object.entries(PERIODS).map(([k, p]) => h('option', { value: k, selected: k === '7d' }, p.label)),
  );
  const gran = h(
    'select',
    {},
    h('option', { value: '' }, 'Automatic'),
    h('option', { value: 'hour' }, 'Hour'),
    h('option', { value: 'day' }, 'Day'),
  );
  const refresh = h('button', { type: 'button' }, 'Refresh');
  const out = h('div', { 'aria-live': 'polite', 'aria-busy': 'false' });
  const controls = h(
    'form',
    { class: 'filters', onsubmit: (e: Event) => e.preventDefault() },
    field('Period', period),
    field('Buckets', gran),
    refresh,
  );

  const load = () => {
    const hours = PERIODS[period.value].hours;
    const end = new Date();
    const start = new Date(end.getTime() - hours * 3_600_000);
    out.setAttribute('aria-busy', 'true');
    mount(out, spinner());
    get<Overview>('overview', { start: start.toISOString(), end: end.toISOString(), granularity: gran.value })
      .then((o) => {
        mount(out, render(o));
        out.setAttribute('aria-busy', 'false');
      })
      .catch((err: unknown) => {
        mount(out, errorBox(err));
        out.setAttribute('aria-busy', 'false');
      });
  };
  period.addEventListener('change', load);
  gran.addEventListener('change', load);
  refresh.addEventListener('click', load);
  mount(main, controls, out);
  load();
}

function render(o: Overview): HTMLElement {
  const hourly = o.period.granularity === 'hour';
  const buckets = o.series.map((b) => b.bucket);
  const t = o.totals;
  const b = o.budget;
  const refused = o.refusals;
  const cards = h(
    'div',
    { class: 'kpis' },
    kpi('requests', 'Requests', t.requests, count(t.requests)),
    kpi(
      'tokens',
      'Tokens',
      t.total_tokens,
      count(t.total_tokens),
      `${count(t.prompt_tokens)} in · ${count(t.completion_tokens)} out`,
    ),
    kpi('cost', 'Cost', t.cost_usd, money(t.cost_usd)),
    kpi('error_rate', 'Error rate', t.error_rate, percent(t.error_rate), `${count(t.errors)} failed`),
    kpi(
      'refused',
      'Refused by policy',
      refused.total ?? 0,
      count(refused.total ?? 0),
      `${count(refused['429'] ?? 0)} rate limit or budget · ${count(refused['403'] ?? 0)} model · ${count(refused['422'] ?? 0)} PII`,
    ),
    kpi(
      'month_spend',
      `Spend in ${b.month}`,
      b.spent_usd,
      money(b.spent_usd),
      b.monthly_budget_usd === null
        ? 'no budget set'
        : `of ${money(b.monthly_budget_usd)} · ${money(b.reserved_usd)} reserved`,
    ),
  );
  if (!t.requests && !(refused.total ?? 0))
    return h(
      'div',
      {},
      cards,
      budgetMeter({ spent: b.spent_usd, reserved: b.reserved_usd, budget: b.monthly_budget_usd }, money),
      empty('No requests in this period yet. Send a chat completion with a key of this tenant and refresh.'),
    );
  return h(
    'div',
    {},
    cards,
    budgetMeter({ spent: b.spent_usd, reserved: b.reserved_usd, budget: b.monthly_budget_usd }, money),
    h(
      'div',
      { class: 'grid2' },
      lineChart({
        label: 'Requests and failures',
        buckets,
        hourly,
        format: (v) => count(Math.round(v)),
        series: [
          { name: 'Requests', values: o.series.map((s) => s.requests), tone: 'c1' },
          { name: 'Failed', values: o.series.map((s) => s.errors), tone: 'c3' },
        ],
      }),
      stackedBars({
        label: 'Cost',
        buckets,
        hourly,
        format: money,
        series: [{ name: 'Cost', values: o.series.map((s) => s.cost_usd), tone: 'c2' }],
      }),
      lineChart({
        label: 'Tokens',
        buckets,
        hourly,
        format: (v) => count(Math.round(v)),
        series: [
          { name: 'Prompt', values: o.series.map((s) => s.prompt_tokens), tone: 'c1' },
          { name: 'Completion', values: o.series.map((s) => s.completion_tokens), tone: 'c4' },
        ],
      }),
      lineChart({
        label: 'Error rate',
        buckets,
        hourly,
        format: (v) => percent(v),
        series: [{ name: 'Error rate', values: o.series.map((s) => s.error_rate), tone: 'c3' }],
      }),
      stackedBars({
        label: 'Refused by policy (429 rate limit / budget, 403 model, 422 PII)',
        buckets,
        hourly,
        format: (v) => count(Math.round(v)),
        series: [
          {
            name: '429 rate limit or budget',
            values: o.series.map((s) => s.refused['429'] ?? 0),
            tone: 'c3',
          },
          { name: '403 model not allowed', values: o.series.map((s) => s.refused['403'] ?? 0), tone: 'c2' },
          { name: '422 PII blocked', values: o.series.map((s) => s.refused['422'] ?? 0), tone: 'c4' },
        ],
      }),
      h(
        'div',
        {},
        hbars({
          label: 'Top keys by cost',
          format: money,
          items: o.by_key
            .slice(0, 6)
            .map((k) => ({ name: k.name ?? k.api_key_id ?? '—', value: k.cost_usd })),
        }),
        hbars({
          label: 'Top models by cost',
          format: money,
          items: o.by_model.slice(0, 6).map((m) => ({ name: m.model, value: m.cost_usd })),
        }),
      ),
    ),
    h(
      'div',
      { class: 'grid2' },
      table('By model', o.by_model, [{ label: 'Model', value: (r) => r.model }, ...measureCols()]),
      table('By provider', o.by_provider, [
        { label: 'Provider', value: (r) => r.provider },
        ...measureCols(),
      ]),
      table('By key', o.by_key, [
        { label: 'Key', value: (r) => `${r.name ?? r.api_key_id ?? '—'}${r.revoked ? ' (revoked)' : ''}` },
        ...measureCols(),
      ]),
      table('By route', o.by_route, [{ label: 'Route', value: (r) => r.route }, ...measureCols()]),
    ),
    h(
      'p',
      { class: 'hint' },
      `Period ${o.period.start} to ${o.period.end} (UTC, whole hours), ${hourly ? 'hourly' : 'daily'} buckets. Costs are the usage rows' own: exact, not sampled.`,
    ),
  );
}
