import { get } from '../api';
import { count, empty, errorBox, field, h, money, mount, spinner, when } from '../dom';

interface Row {
  id: string;
  created_at: string;
  api_key_id: string | null;
  endpoint: string;
  route: string;
  provider: string;
  model: string;
  status: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost_usd: number;
  latency_ms: number;
  cached: boolean;
  attempts: number;
  request_id: string | null;
}

const WINDOWS: Record<string, number> = { '1h': 1, '24h': 24, '7d': 168, '30d': 720 };

/** The usage rows: a keyset-paged log (Next follows the cursor; Back returns to earlier pages). */
export function requestsPage(main: HTMLElement): void {
  const win = h(
    'select',
    {},
    Object.keys(WINDOWS).map((w) => h('option', { value: w, selected: w === '24h' }, `Last ${w}`)),
  );
  const key = h('input', { type: 'text', name: 'api_key_id', spellcheck: 'false', placeholder: 'key id' });
  const model = h('input', { type: 'text', name: 'model', spellcheck: 'false' });
  const provider = h('input', { type: 'text', name: 'provider', spellcheck: 'false' });
  const route = h('input', { type: 'text', name: 'route', spellcheck: 'false' });
  const status = h(
    'select',
    { name: 'status' },
    h('option', { value: '' }, 'Any'),
    h('option', { value: 'ok' }, 'Succeeded'),
    h('option', { value: 'error' }, 'Failed'),
    h('option', { value: '429' }, '429'),
    h('option', { value: '502' }, '502'),
  );
  const requestId = h('input', { type: 'search', name: 'request_id', spellcheck: 'false' });
  const out = h('div', { 'aria-live': 'polite' });
  const cursors: (string | null)[] = [null];
  let end = new Date();

  const load = () => {
    const cursor = cursors[cursors.length - 1];
    mount(out, spinner());
    get<{ data: Row[]; next_cursor: string | null }>('requests', {
      start: new Date(end.getTime() - WINDOWS[win.value] * 3_600_000).toISOString(),
      end: end.toISOString(),
      api_key_id: key.value.trim(),
      model: model.value.trim(),
      provider: provider.value.trim(),
      route: route.value.trim(),
      status: status.value,
      request_id: requestId.value.trim(),
      cursor: cursor ?? undefined,
      limit: 50,
    })
      .then((page) => mount(out, render(page.data, page.next_cursor)))
      .catch((e: unknown) => mount(out, errorBox(e)));
  };

  const render = (rows: Row[], next: string | null) => {
    const nav = h(
      'div',
      { class: 'pager' },
      h(
        'button',
        {
          type: 'button',
          disabled: cursors.length <= 1,
          onclick: () => {
            cursors.pop();
            load();
          },
        },
        'Newer',
      ),
      h('span', {}, `Page ${cursors.length}`),
      h(
        'button',
        {
          type: 'button',
          disabled: !next,
          onclick: () => {
            cursors.push(next);
            load();
          },
        },
        'Older',
      ),
    );
    if (!rows.length) return h('div', {}, empty('No requests match these filters in this window.'), nav);
    return h(
      'div',
      {},
      h(
        'div',
        { class: 'card table-wrap' },
        h(
          'table',
          { class: 'dense' },
          h('caption', {}, 'Requests, newest first (no prompt or completion text is ever stored)'),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              [
                'Time',
                'Key',
                'Door',
                'Route',
                'Provider',
                'Model',
                'Status',
                'Tokens',
                'Cost',
                'Latency',
                'Cache',
                'Attempts',
                'Request id',
              ].map((c) => h('th', { scope: 'col' }, c)),
            ),
          ),
          h(
            'tbody',
            {},
            rows.map((r) =>
              h(
                'tr',
                { 'data-request-id': r.request_id ?? '', 'data-key-id': r.api_key_id ?? '' },
                h('td', {}, when(r.created_at)),
                h(
                  'td',
                  {},
                  r.api_key_id ? h('code', { title: r.api_key_id }, r.api_key_id.slice(0, 8)) : 'token',
                ),
                h('td', {}, r.endpoint),
                h('td', {}, r.route),
                h('td', {}, r.provider),
                h('td', {}, r.model),
                h('td', { class: r.status >= 400 ? 'bad' : 'good' }, String(r.status)),
                h(
                  'td',
                  { class: 'num', title: `${r.prompt_tokens} in, ${r.completion_tokens} out` },
                  count(r.total_tokens),
                ),
                h('td', { class: 'num', 'data-cost': String(r.cost_usd) }, money(r.cost_usd)),
                h('td', { class: 'num' }, `${count(r.latency_ms)} ms`),
                h('td', {}, r.cached ? 'hit' : '—'),
                h('td', { class: 'num' }, String(r.attempts)),
                h('td', {}, h('code', {}, r.request_id ?? '—')),
              ),
            ),
          ),
        ),
      ),
      nav,
    );
  };

  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter requests' },
    field('Window', win),
    field('Key id', key),
    field('Model', model),
    field('Provider', provider),
    field('Route', route),
    field('Status', status),
    field('Request id', requestId),
    h('button', { type: 'submit', class: 'primary' }, 'Search'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    end = new Date();
    cursors.splice(1);
    load();
  });
  win.addEventListener('change', () => form.requestSubmit());
  status.addEventListener('change', () => form.requestSubmit());
  mount(main, form, out);
  load();
}
