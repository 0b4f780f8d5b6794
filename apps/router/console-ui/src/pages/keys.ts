import { ApiError, apiPath, call, get } from '../api';
import { count, empty, errorBox, field, h, money, mount, spinner, when } from '../dom';
import { type LimitsDto, limitsForm } from './limits-form';

interface Key {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  limits: LimitsDto | null;
  month_spend_usd: number;
}

const SCOPES = ['llm', 'memory:read', 'memory:write', 'audit:read', 'admin', 'platform:admin'];

function limitsText(l: LimitsDto | null): string {
  if (!l) return 'none';
  const parts = [
    l.rpm !== null ? `${count(l.rpm)} rpm` : null,
    l.tpm !== null ? `${count(l.tpm)} tpm` : null,
    l.concurrency !== null ? `${l.concurrency} concurrent` : null,
    l.monthly_budget_usd !== null ? `${money(l.monthly_budget_usd)}/month` : null,
    l.allowed_models ? `models: ${l.allowed_models.join(', ')}` : null,
  ].filter(Boolean);
  return parts.length ? parts.join(' · ') : 'none';
}

/** A modal dialog (native <dialog>: focus trap and Escape come with it). */
function dialog(title: string, body: HTMLElement, actions: HTMLElement[]): HTMLDialogElement {
  const id = `dlg-${Math.random().toString(36).slice(2, 8)}`;
  const d = h(
    'dialog',
    { 'aria-labelledby': id },
    h('h2', { id }, title),
    body,
    h('div', { class: 'actions' }, actions),
  );
  d.addEventListener('close', () => d.remove());
  document.body.append(d);
  d.showModal();
  return d;
}

export function keysPage(main: HTMLElement): void {
  const list = h('div', { 'aria-live': 'polite' });
  const secret = h('div');

  const load = () => {
    mount(list, spinner());
    get<{ data: Key[] }>('keys')
      .then((r) => mount(list, r.data.length ? keyTable(r.data) : empty('This tenant has no active keys.')))
      .catch((e: unknown) => mount(list, errorBox(e)));
  };

  const keyTable = (keys: Key[]) =>
    h(
      'div',
      { class: 'card table-wrap' },
      h(
        'table',
        {},
        h('caption', {}, `${keys.length} active key${keys.length === 1 ? '' : 's'}`),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            [
              'Name',
              'Prefix',
              'Scopes',
              'Created',
              'Last used',
              'Expires',
              'Limits',
              'Spend this month',
              'Actions',
            ].map((c) => h('th', { scope: 'col' }, c)),
          ),
        ),
        h(
          'tbody',
          {},
          keys.map((k) =>
            h(
              'tr',
              { 'data-key-id': k.id, 'data-key-name': k.name },
              h('td', {}, k.name),
              h('td', {}, h('code', {}, k.prefix)),
              h('td', {}, k.scopes.join(', ')),
              h('td', {}, when(k.created_at)),
              h('td', {}, when(k.last_used_at)),
              h('td', {}, when(k.expires_at)),
              h('td', {}, limitsText(k.limits)),
              h('td', { class: 'num', 'data-spend': String(k.month_spend_usd) }, money(k.month_spend_usd)),
              h(
                'td',
                { class: 'row-actions' },
                h(
                  'button',
                  { type: 'button', onclick: () => editLimits(k), 'aria-label': `Edit limits of ${k.name}` },
                  'Edit limits',
                ),
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'danger',
                    onclick: () => revoke(k),
                    'aria-label': `Revoke ${k.name}`,
                  },
                  'Revoke',
                ),
              ),
            ),
          ),
        ),
      ),
    );

  const revoke = (k: Key) => {
    const status = h('div', { 'aria-live': 'polite' });
    const confirm = h('button', { type: 'button', class: 'danger' }, 'Revoke key');
    const d = dialog(
      `Revoke “${k.name}”?`,
      h(
        'div',
        {},
        h(
          'p',
          {},
          `Every request with ${k.prefix}… is refused within seconds on every replica. This cannot be undone.`,
        ),
        status,
      ),
      [h('button', { type: 'button', onclick: () => d.close() }, 'Cancel'), confirm],
    );
    confirm.addEventListener('click', () => {
      confirm.disabled = true;
      call('DELETE', apiPath(`keys/${encodeURIComponent(k.id)}`))
        .then(() => {
          d.close();
          load();
        })
        .catch((e: unknown) => {
          confirm.disabled = false;
          mount(status, errorBox(e));
        });
    });
  };

  const editLimits = (k: Key) => {
    const form = limitsForm(k.limits, { pii: false });
    const status = h('div', { 'aria-live': 'polite' });
    const save = h('button', { type: 'button', class: 'primary' }, 'Save limits');
    const d = dialog(
      `Limits of “${k.name}”`,
      h(
        'div',
        {},
        h('p', { class: 'hint' }, 'A key’s limits apply on top of the tenant’s.'),
        form.el,
        status,
      ),
      [h('button', { type: 'button', onclick: () => d.close() }, 'Cancel'), save],
    );
    save.addEventListener('click', () => {
      const r = form.read();
      if ('error' in r) {
        mount(status, errorBox(r.error));
        r.input.focus();
        return;
      }
      save.disabled = true;
      call('PUT', apiPath(`keys/${encodeURIComponent(k.id)}/limits`), r.body)
        .then(() => {
          d.close();
          load();
        })
        .catch((e: unknown) => {
          save.disabled = false;
          mount(status, errorBox(e));
        });
    });
  };

  // Create
  const name = h('input', { type: 'text', name: 'name', required: true, maxlength: '200' });
  const expires = h('input', { type: 'date', name: 'expires' });
  const scopeBoxes = SCOPES.map((sc) =>
    h('input', { type: 'checkbox', name: 'scope', value: sc, checked: sc === 'llm' }),
  );
  const limits = limitsForm(null, { pii: false });
  const status = h('div', { 'aria-live': 'polite' });
  const create = h('button', { type: 'submit', class: 'primary' }, 'Create key');
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'create-title' },
    h('h2', { id: 'create-title' }, 'Create a key'),
    h(
      'div',
      { class: 'form-grid' },
      field('Name', name, 'What uses it, e.g. billing-service'),
      field('Expires (optional)', expires, 'End of that day, UTC'),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Scopes'),
      scopeBoxes.map((b) => h('label', { class: 'check' }, b, ` ${b.value}`)),
    ),
    h('details', {}, h('summary', {}, 'Limits for this key (optional)'), limits.el),
    status,
    create,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const scopes = scopeBoxes.filter((b) => b.checked).map((b) => b.value);
    if (!name.value.trim()) {
      mount(status, errorBox('Give the key a name.'));
      return name.focus();
    }
    if (!scopes.length) {
      mount(status, errorBox('Choose at least one scope.'));
      return scopeBoxes[0].focus();
    }
    const l = limits.read();
    if ('error' in l) {
      mount(status, errorBox(l.error));
      return l.input.focus();
    }
    const body: Record<string, unknown> = { name: name.value.trim(), scopes };
    if (expires.value) body.expires_at = `${expires.value}T23:59:59Z`;
    if (Object.keys(l.body).length) body.limits = l.body;
    create.disabled = true;
    mount(status);
    call<Key & { key: string }>('POST', apiPath('keys'), body)
      .then((created) => {
        name.value = '';
        showSecret(created);
        load();
      })
      .catch((e: unknown) => mount(status, errorBox(e instanceof ApiError ? e : String(e))))
      .finally(() => (create.disabled = false));
  });

  const showSecret = (k: Key & { key: string }) => {
    const input = h('input', {
      type: 'text',
      readonly: true,
      value: k.key,
      'aria-label': `Secret of ${k.name}`,
      class: 'secret',
      'data-secret': '',
    });
    const copied = h('span', { 'aria-live': 'polite', class: 'hint' });
    mount(
      secret,
      h(
        'section',
        { class: 'card notice', role: 'region', 'aria-label': 'New key secret' },
        h('h2', {}, `Key “${k.name}” created`),
        h('p', {}, 'Copy the key now: it is shown only this once and the router stores only its hash.'),
        h(
          'div',
          { class: 'copy-row' },
          input,
          h(
            'button',
            {
              type: 'button',
              onclick: () => {
                input.select();
                const done = () => (copied.textContent = 'Copied.');
                if (navigator.clipboard)
                  navigator.clipboard
                    .writeText(k.key)
                    .then(done, () => (copied.textContent = 'Select the text and copy it.'));
                else copied.textContent = 'Select the text and copy it.';
              },
            },
            'Copy',
          ),
          copied,
        ),
        h('button', { type: 'button', onclick: () => mount(secret) }, 'I have stored it — hide'),
      ),
    );
    input.focus();
    input.select();
  };

  mount(main, secret, list, form);
  load();
}
