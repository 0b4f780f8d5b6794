import { apiPath, call, get } from '../api';
import { empty, errorBox, field, h, mount, spinner, when } from '../dom';

interface Event {
  seq: number;
  occurred_at: string;
  action: string;
  outcome: string;
  actor_type: string;
  actor_id: string | null;
  resource_type: string | null;
  resource_id: string | null;
  status_code: number | null;
  request_id: string | null;
}
interface Verification {
  ok: boolean;
  checked: number;
  first_bad_seq: number | null;
  reason: string | null;
  verified_at: string;
  duration_ms: number;
}

const ACTIONS = [
  '',
  'chat.completion',
  'embeddings',
  'auth.denied',
  'apikey.created',
  'apikey.revoked',
  'limits.updated',
  'tenant.created',
  'pii.detected',
  'pii.blocked',
  'memory.write',
  'memory.read',
  'memory.delete',
  'memory.search',
  'memory.erase',
];

export function auditPage(main: HTMLElement): void {
  const action = h(
    'select',
    { name: 'action' },
    ACTIONS.map((a) => h('option', { value: a }, a || 'Any')),
  );
  const actor = h('input', { type: 'text', name: 'actor', spellcheck: 'false', placeholder: 'api_key:…' });
  const start = h('input', { type: 'date', name: 'start' });
  const end = h('input', { type: 'date', name: 'end' });
  const verifyOut = h('div', { 'aria-live': 'polite', id: 'verify-result' });
  const verify = h('button', { type: 'button', class: 'primary' }, 'Verify chain');
  const exportLink = h('a', { class: 'button', download: '' }, 'Export NDJSON');
  const out = h('div', { 'aria-live': 'polite' });
  const rows: Event[] = [];
  let cursor: string | null = null;

  const query = () => ({
    action: action.value,
    actor: actor.value.trim(),
    start: start.value ? `${start.value}T00:00:00Z` : undefined,
    end: end.value ? new Date(Date.parse(`${end.value}T00:00:00Z`) + 86_400_000).toISOString() : undefined,
  });

  const load = (more: boolean) => {
    if (!more) {
      rows.length = 0;
      cursor = null;
      mount(out, spinner());
    }
    exportLink.setAttribute('href', apiPath('audit/export', query()));
    get<{ items: Event[]; next_cursor: string | null }>('audit', {
      ...query(),
      cursor: more ? cursor : undefined,
      limit: 50,
    })
      .then((page) => {
        rows.push(...page.items);
        cursor = page.next_cursor;
        mount(out, render());
      })
      .catch((e: unknown) => mount(out, errorBox(e)));
  };

  const render = () => {
    if (!rows.length) return empty('No audit events match these filters.');
    return h(
      'div',
      {},
      h(
        'div',
        { class: 'card table-wrap' },
        h(
          'table',
          { class: 'dense' },
          h('caption', {}, 'Audit events, newest first'),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Seq', 'Time', 'Action', 'Outcome', 'Status', 'Actor', 'Resource', 'Request id'].map((c) =>
                h('th', { scope: 'col' }, c),
              ),
            ),
          ),
          h(
            'tbody',
            {},
            rows.map((e) =>
              h(
                'tr',
                {},
                h('td', { class: 'num' }, String(e.seq)),
                h('td', {}, when(e.occurred_at)),
                h('td', {}, e.action),
                h('td', { class: e.outcome === 'success' ? 'good' : 'bad' }, e.outcome),
                h('td', {}, e.status_code === null ? '—' : String(e.status_code)),
                h('td', { title: e.actor_type }, e.actor_id ?? e.actor_type),
                h(
                  'td',
                  { class: 'wrap' },
                  e.resource_type ? `${e.resource_type}: ${e.resource_id ?? ''}` : '—',
                ),
                h('td', {}, h('code', {}, e.request_id ?? '—')),
              ),
            ),
          ),
        ),
      ),
      cursor
        ? h('button', { type: 'button', onclick: () => load(true) }, 'Load older events')
        : h('p', { class: 'hint' }, 'End of the log.'),
    );
  };

  verify.addEventListener('click', () => {
    verify.disabled = true;
    mount(verifyOut, h('p', { class: 'loading', role: 'status' }, 'Verifying every event of the chain…'));
    call<Verification>('POST', apiPath('audit/verify'))
      .then((v) =>
        mount(
          verifyOut,
          h(
            'div',
            {
              class: v.ok ? 'notice ok' : 'error',
              role: v.ok ? 'status' : 'alert',
              'data-verified': String(v.ok),
              'data-checked': String(v.checked),
            },
            v.ok
              ? `Chain intact: ${v.checked} events verified (hash chain and HMAC) in ${v.duration_ms} ms at ${when(v.verified_at)}.`
              : `Chain BROKEN at seq ${v.first_bad_seq} (${v.reason}) after ${v.checked} events — the audit log was altered.`,
          ),
        ),
      )
      .catch((e: unknown) => mount(verifyOut, errorBox(e)))
      .finally(() => (verify.disabled = false));
  });

  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter audit events' },
    field('Action', action),
    field('Actor', actor),
    field('From (UTC day)', start),
    field('To (UTC day)', end),
    h('button', { type: 'submit' }, 'Search'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    load(false);
  });
  mount(main, h('div', { class: 'card toolbar' }, verify, exportLink, verifyOut), form, out);
  load(false);
}
