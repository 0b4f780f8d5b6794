import { get } from '../api';
import { count, errorBox, h, money, mount, spinner } from '../dom';

interface Providers {
  providers: { id: string; models: number }[];
  models: {
    id: string;
    provider: string;
    kind: string;
    configured: boolean;
    input_per_1m_usd: number;
    output_per_1m_usd: number;
    context_window: number;
    quality: number;
    circuit: string | null;
    successes: number | null;
    failures: number | null;
    latency_ewma_ms: number | null;
  }[];
  routes: {
    name: string;
    strategy: string;
    cache: boolean;
    quality_floor: number | null;
    candidates: { model: string; weight: number | null; configured: boolean }[];
  }[];
  mock_only: boolean;
}

const REFRESH_MS = 5000;

/** Live: circuits and learned statistics are re-read every 5 s while the page is open. */
export function providersPage(main: HTMLElement): () => void {
  const out = h('div');
  const stamp = h('p', { class: 'hint', 'aria-live': 'off' });
  mount(main, stamp, out);
  mount(out, spinner());
  let stopped = false;
  let timer: number | undefined;
  const load = () => {
    get<Providers>('providers')
      .then((p) => {
        if (stopped) return;
        mount(out, render(p));
        stamp.textContent = `Live: updated ${new Date().toISOString().slice(11, 19)} UTC, every ${REFRESH_MS / 1000} s.`;
      })
      .catch((e: unknown) => !stopped && mount(out, errorBox(e)))
      .finally(() => {
        if (!stopped) timer = window.setTimeout(load, REFRESH_MS);
      });
  };
  load();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}

function render(p: Providers): HTMLElement {
  const live = p.models.filter((m) => m.configured);
  return h(
    'div',
    {},
    p.mock_only
      ? h(
          'p',
          { class: 'notice' },
          'No provider key is set: every model and alias is served by the built-in mock provider.',
        )
      : null,
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Configured providers'),
      h(
        'ul',
        { class: 'chips' },
        p.providers.map((x) => h('li', {}, `${x.id} (${x.models} catalog models)`)),
      ),
    ),
    h(
      'section',
      { class: 'card table-wrap' },
      h(
        'table',
        {},
        h('caption', {}, 'Routes'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Route', 'Strategy', 'Candidates', 'Quality floor', 'Cache'].map((c) =>
              h('th', { scope: 'col' }, c),
            ),
          ),
        ),
        h(
          'tbody',
          {},
          p.routes.map((r) =>
            h(
              'tr',
              {},
              h('td', {}, h('code', {}, r.name)),
              h('td', {}, r.strategy),
              h(
                'td',
                {},
                r.candidates
                  .map(
                    (c) =>
                      `${c.model}${c.weight !== null ? ` ×${c.weight}` : ''}${c.configured ? '' : ' (not configured)'}`,
                  )
                  .join(', '),
              ),
              h('td', {}, r.quality_floor === null ? '—' : String(r.quality_floor)),
              h('td', {}, r.cache ? 'yes' : 'no'),
            ),
          ),
        ),
      ),
    ),
    h(
      'section',
      { class: 'card table-wrap' },
      h(
        'table',
        {},
        h('caption', {}, `Live circuits and learned statistics (${live.length} reachable models)`),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Model', 'Provider', 'Circuit', 'Successes', 'Failures', 'Latency (EWMA)'].map((c) =>
              h('th', { scope: 'col' }, c),
            ),
          ),
        ),
        h(
          'tbody',
          {},
          live.map((m) =>
            h(
              'tr',
              { 'data-model': m.id },
              h('td', {}, m.id),
              h('td', {}, m.provider),
              h('td', { class: m.circuit === 'open' ? 'bad' : 'good' }, m.circuit ?? '—'),
              h('td', { class: 'num' }, count(m.successes ?? 0)),
              h('td', { class: 'num' }, count(m.failures ?? 0)),
              h('td', { class: 'num' }, m.latency_ewma_ms ? `${count(m.latency_ewma_ms)} ms` : '—'),
            ),
          ),
        ),
      ),
    ),
    h(
      'section',
      { class: 'card table-wrap' },
      h(
        'table',
        {},
        h('caption', {}, 'Catalog (USD per 1M tokens)'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Model', 'Provider', 'Kind', 'Input', 'Output', 'Context', 'Quality', 'Available'].map((c) =>
              h('th', { scope: 'col' }, c),
            ),
          ),
        ),
        h(
          'tbody',
          {},
          p.models.map((m) =>
            h(
              'tr',
              {},
              h('td', {}, m.id),
              h('td', {}, m.provider),
              h('td', {}, m.kind),
              h('td', { class: 'num' }, money(m.input_per_1m_usd)),
              h('td', { class: 'num' }, money(m.output_per_1m_usd)),
              h('td', { class: 'num' }, count(m.context_window)),
              h('td', { class: 'num' }, m.quality.toFixed(2)),
              h('td', {}, m.configured ? 'yes' : 'no key'),
            ),
          ),
        ),
      ),
    ),
  );
}
