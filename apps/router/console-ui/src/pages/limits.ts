import { apiPath, call, get } from '../api';
import { errorBox, h, money, mount, spinner } from '../dom';
import { type LimitsDto, limitsForm } from './limits-form';

interface Budget {
  month: string;
  monthly_budget_usd: number | null;
  spent_usd: number;
  reserved_usd: number;
  remaining_usd: number | null;
}

export function limitsPage(main: HTMLElement): void {
  mount(main, spinner());
  Promise.all([
    get<LimitsDto>('limits'),
    get<{ budget: Budget }>('overview', { start: new Date(Date.now() - 3_600_000).toISOString() }),
  ])
    .then(([limits, o]) => render(main, limits, o.budget))
    .catch((e: unknown) => mount(main, errorBox(e)));
}

function render(main: HTMLElement, limits: LimitsDto, b: Budget): void {
  const form = limitsForm(limits, { pii: true });
  const status = h('div', { 'aria-live': 'polite', id: 'limits-status' });
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save limits');
  const el = h(
    'form',
    { class: 'card', 'aria-labelledby': 'limits-title', novalidate: true },
    h('h2', { id: 'limits-title' }, 'Tenant limits'),
    h(
      'p',
      { class: 'hint' },
      'They apply to every key of the tenant, on every replica within 2 seconds. A field left empty does not apply.',
    ),
    form.el,
    status,
    save,
  );
  el.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const r = form.read();
    if ('error' in r) {
      mount(status, errorBox(r.error));
      return r.input.focus();
    }
    save.disabled = true;
    mount(status);
    call<LimitsDto>('PUT', apiPath('limits'), r.body)
      .then(() => mount(status, h('p', { class: 'ok', role: 'status' }, 'Saved.')))
      .catch((e: unknown) => mount(status, errorBox(e)))
      .finally(() => (save.disabled = false));
  });
  mount(
    main,
    h(
      'section',
      { class: 'card' },
      h('h2', {}, `Budget for ${b.month}`),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Monthly budget'),
        h('dd', {}, b.monthly_budget_usd === null ? 'not set' : money(b.monthly_budget_usd)),
        h('dt', {}, 'Spent (usage rows)'),
        h('dd', {}, money(b.spent_usd)),
        h('dt', {}, 'Reserved by calls in flight'),
        h('dd', {}, money(b.reserved_usd)),
        h('dt', {}, 'Remaining'),
        h('dd', {}, b.remaining_usd === null ? '—' : money(b.remaining_usd)),
      ),
    ),
    el,
  );
}
