import { ApiError, call, type Session, setSession, setTenant, whenSignedOut } from './api';
import { errorBox, field, h, mount } from './dom';
import { auditPage } from './pages/audit';
import { keysPage } from './pages/keys';
import { limitsPage } from './pages/limits';
import { overviewPage } from './pages/overview';
import { providersPage } from './pages/providers';
import { requestsPage } from './pages/requests';

/** A page renders into `main` and may return a function that stops its timers. */
export type Page = (main: HTMLElement, session: Session) => void | (() => void);

const PAGES: { path: string; title: string; render: Page }[] = [
  { path: 'overview', title: 'Overview', render: overviewPage },
  { path: 'keys', title: 'Keys', render: keysPage },
  { path: 'limits', title: 'Limits & budget', render: limitsPage },
  { path: 'requests', title: 'Requests', render: requestsPage },
  { path: 'audit', title: 'Audit', render: auditPage },
  { path: 'providers', title: 'Providers & routing', render: providersPage },
];

const root = document.getElementById('app') as HTMLElement;
let session: Session | null = null;
let stopPage: (() => void) | null = null;

function applyTheme(theme: string | null): void {
  if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}
// The theme choice is the only thing the console keeps in the browser.
applyTheme(localStorage.getItem('atp-console-theme'));

function signInView(message?: string): void {
  stopPage?.();
  stopPage = null;
  session = null;
  setSession(null);
  const oidcSlot = h('div');
  const key = h('input', {
    type: 'password',
    name: 'api_key',
    autocomplete: 'off',
    required: true,
    spellcheck: 'false',
  });
  const status = h('div', { 'aria-live': 'polite' }, message ? errorBox(message) : null);
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'card signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'ATP console'),
    h(
      'p',
      {},
      'Sign in with an API key that has the admin or platform:admin scope. The key is sent once to the router, which keeps your session in a cookie this page cannot read.',
    ),
    field('API key', key, 'Development: the api_key in .atp/dev-credentials.json'),
    status,
    button,
    oidcSlot,
  );
  // Offer the company sign-in only when the router has an OIDC issuer.
  call<{ oidc: boolean }>('GET', '/console/api/config', undefined, { signIn: true })
    .then((c) => {
      if (c.oidc)
        mount(
          oidcSlot,
          h(
            'p',
            {},
            'or ',
            h(
              'a',
              { href: '/console/oidc/login', class: 'button' },
              'Sign in with your company account (OIDC)',
            ),
          ),
        );
    })
    .catch(() => undefined);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    button.disabled = true;
    mount(status, h('p', { class: 'loading', role: 'status' }, 'Signing in…'));
    call<Session>('POST', '/console/api/session', { api_key: key.value.trim() }, { signIn: true })
      .then(() => {
        key.value = '';
        return start();
      })
      .catch((err: unknown) => {
        button.disabled = false;
        mount(status, errorBox(err));
        key.focus();
      });
  });
  mount(root, h('main', { id: 'main', class: 'center' }, form));
  key.focus();
}

function shell(): { main: HTMLElement; nav: HTMLElement } {
  const s = session as Session;
  const tenants = s.tenants ?? [{ id: s.tenant_id, name: s.tenant_name }];
  const switcher = s.platform_admin
    ? field(
        'Tenant',
        h(
          'select',
          {
            onchange: (ev: Event) => {
              setTenant((ev.target as HTMLSelectElement).value);
              route();
            },
          },
          tenants.map((t) =>
            h('option', { value: t.id, selected: t.id === (currentTenantId ?? s.tenant_id) }, t.name),
          ),
        ),
      )
    : h('span', { class: 'tenant' }, 'Tenant: ', h('strong', {}, s.tenant_name));
  const theme = h(
    'button',
    {
      type: 'button',
      class: 'ghost',
      'aria-label': 'Switch between light and dark theme',
      onclick: () => {
        const dark = document.documentElement.dataset.theme
          ? document.documentElement.dataset.theme === 'dark'
          : matchMedia('(prefers-color-scheme: dark)').matches;
        const next = dark ? 'light' : 'dark';
        localStorage.setItem('atp-console-theme', next);
        applyTheme(next);
      },
    },
    'Theme',
  );
  const signOut = h(
    'button',
    {
      type: 'button',
      class: 'ghost',
      onclick: () => {
        call('DELETE', '/console/api/session')
          .catch(() => undefined)
          .finally(() => signInView('You have signed out.'));
      },
    },
    'Sign out',
  );
  const nav = h(
    'nav',
    { 'aria-label': 'Console pages' },
    h(
      'ul',
      {},
      PAGES.map((p) => h('li', {}, h('a', { href: `#/${p.path}`, 'data-page': p.path }, p.title))),
    ),
  );
  const main = h('main', { id: 'main', tabindex: '-1' });
  mount(
    root,
    h('a', { href: '#main', class: 'skip' }, 'Skip to content'),
    h(
      'header',
      { class: 'top' },
      h('span', { class: 'brand' }, 'ATP console'),
      h(
        'div',
        { class: 'top-actions' },
        switcher,
        h('span', { class: 'who', title: s.subject }, s.subject),
        theme,
        signOut,
      ),
    ),
    h('div', { class: 'layout' }, nav, main),
  );
  return { main, nav };
}

let currentTenantId: string | null = null;
let layout: { main: HTMLElement; nav: HTMLElement } | null = null;

function route(): void {
  if (!session || !layout) return;
  const path = location.hash.replace(/^#\/?/, '') || 'overview';
  const page = PAGES.find((p) => p.path === path) ?? PAGES[0];
  for (const a of layout.nav.querySelectorAll('a')) {
    if (a.dataset.page === page.path) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${page.title} — ATP console`;
  stopPage?.();
  const main = h('main', { id: 'main', tabindex: '-1', 'aria-labelledby': 'page-title' });
  layout.main.replaceWith(main);
  layout.main = main;
  main.append(h('h1', { id: 'page-title' }, page.title));
  const body = h('div', { class: 'page' });
  main.append(body);
  stopPage = page.render(body, session) ?? null;
}

async function start(): Promise<void> {
  try {
    session = await call<Session>('GET', '/console/api/session', undefined, { signIn: true });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return signInView();
    mount(root, h('main', { id: 'main', class: 'center' }, errorBox(err)));
    return;
  }
  setSession(session);
  currentTenantId = session.tenant_id;
  setTenant(null);
  layout = shell();
  const select = root.querySelector('header select');
  select?.addEventListener('change', (ev) => {
    currentTenantId = (ev.target as HTMLSelectElement).value;
  });
  route();
}

/** What an OIDC sign-in that came back with an error code (in the hash, never a token) means. */
const OIDC_ERRORS: Record<string, string> = {
  oidc_denied: 'The identity provider did not sign you in.',
  oidc_state_mismatch: 'The sign-in did not start in this browser. Try again.',
  oidc_state_expired: 'The sign-in took too long or was already used. Try again.',
  oidc_exchange_failed: 'The identity provider did not accept the sign-in. Try again.',
  oidc_nonce_mismatch: 'The identity provider answered for another sign-in. Try again.',
  oidc_unavailable: 'The identity provider cannot be reached right now.',
  oidc_not_configured: 'OIDC sign-in is not configured on this router.',
  console_forbidden: 'Your account has neither the admin nor the platform:admin scope.',
  invalid_token: 'Your identity token was not accepted (issuer, audience, tenant or scopes claim).',
};

whenSignedOut((message) => signInView(message));
const signInError = /^#\/signin\?error=([a-z_]+)$/.exec(location.hash)?.[1];
if (signInError) {
  history.replaceState(null, '', '/console');
  signInView(OIDC_ERRORS[signInError] ?? 'The sign-in failed. Try again.');
}
window.addEventListener('hashchange', () => {
  route();
  document.getElementById('main')?.focus();
});
if (!signInError) void start();
