import '../../ui/styles.css';
import { dyn, errorMessage, h, msg, pageHeader, setDocumentTitle, setText, text, button } from '../../ui/dom.ts';
import { t, type MessageKey } from '../../i18n/index.ts';
import { api } from './api.ts';
import { auditPage, listPage, reportPage } from './admin.ts';
import { apiKeysPage, settingsPage } from './settingsPages.ts';
import { recordingsPage } from './recordingsPage.ts';
import { registerPage } from './afterSitting.ts';
import { calendarPage } from './calendar.ts';
import { casePage, casesPage, newCasePage } from './cases.ts';
import { livePage } from './live.ts';
import { sessionPage, sessionsPage } from './sessions.ts';
import { field, withStatus } from './widgets.ts';

const root = document.getElementById('app')!;
let cleanup: (() => void) | undefined;

/** `roles`: shown only to these (the API refuses the others anyway; a link that only errors helps no one). */
const NAV: { hash: string; key: MessageKey; roles?: string[] }[] = [
  { hash: '#/sessions', key: 'nav.sessions' },
  { hash: '#/recordings', key: 'nav.recordings' },
  { hash: '#/bridge-points', key: 'nav.bridgePoints' },
  { hash: '#/cases', key: 'nav.cases' },
  { hash: '#/register', key: 'nav.register' },
  { hash: '#/calendar', key: 'nav.calendar' },
  { hash: '#/users', key: 'nav.users' },
  { hash: '#/audit', key: 'nav.audit' },
  { hash: '#/report', key: 'nav.report' },
  { hash: '#/api-keys', key: 'nav.apiKeys', roles: ['admin'] },
  { hash: '#/settings', key: 'nav.settings', roles: ['admin'] },
];

function loginPage(): void {
  const status = h('p', { class: 'status', role: 'alert' });
  const user = h('input', { type: 'text', autocomplete: 'username', required: true });
  const pass = h('input', { type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'card stack login', id: 'login' }, text('login.title', undefined, 'h2'), field('login-username', 'login.username', user), field('login-password', 'login.password', pass), h('button', { type: 'submit', class: 'primary big' }, text('login.submit')), status);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void withStatus(status, async () => {
      const { passwordChangeRequired } = await api.login(user.value, pass.value);
      if (passwordChangeRequired) return passwordChangePage(user.value, pass.value);
      if (!location.hash || location.hash === '#/login') location.hash = '#/sessions';
      route();
    });
  });
  root.replaceChildren(pageHeader('app.title'), h('main', {}, form));
  user.focus();
}

/** After an administrator's reset: the user chooses their own password before anything else (security review M10). */
function passwordChangePage(username: string, current: string): void {
  const status = h('p', { class: 'status', role: 'alert' });
  const next = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: 10 });
  const form = h('form', { class: 'card stack login', id: 'password-change' }, text('login.mustChange', undefined, 'p'), field('new-password', 'login.newPassword', next), h('button', { type: 'submit', class: 'primary big' }, text('login.changeSubmit')), status);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void withStatus(status, async () => {
      await api.changePassword(username, current, next.value);
      if (!location.hash || location.hash === '#/login') location.hash = '#/sessions';
      void route();
    });
  });
  root.replaceChildren(pageHeader('app.title'), h('main', {}, form));
  next.focus();
}

function shell(): HTMLElement {
  const main = h('main', { id: 'main', tabindex: -1 });
  const nav = h('nav', { 'aria-label': msg('nav.main') });
  for (const item of NAV) {
    if (item.roles && !item.roles.includes(api.user?.role ?? '')) continue;
    const a = h('a', { href: item.hash });
    setText(a, item.key);
    // A case's own page (#/case/…) belongs to the cases entry.
    if (location.hash.startsWith(item.hash) || (item.hash === '#/cases' && location.hash.startsWith('#/case/'))) a.setAttribute('aria-current', 'page');
    nav.append(a);
  }
  const who = text('login.as', { name: api.user?.displayName ?? '' });
  who.className = 'who';
  const logout = button('login.logout', () => void api.logout().then(() => loginPage()), { id: 'logout' });
  root.replaceChildren(pageHeader('live.title', who, logout), h('div', { class: 'console' }, nav, main));
  return main;
}

async function route(): Promise<void> {
  cleanup?.();
  cleanup = undefined;
  if (!api.token) {
    loginPage();
    return;
  }
  const main = shell();
  main.append(h('p', {}, text('common.loading')));
  const [, page, id] = (location.hash || '#/sessions').split('/');
  try {
    switch (page) {
      case 'session':
        await sessionPage(main, id ?? '');
        break;
      case 'live':
        await livePage(main, id ?? '', (fn) => (cleanup = fn));
        break;
      case 'recordings':
        await recordingsPage(main);
        break;
      case 'bridge-points':
      case 'users':
        await listPage(main, page);
        break;
      case 'cases':
        await (id === 'new' ? newCasePage(main) : casesPage(main));
        break;
      case 'case':
        await casePage(main, id ?? '');
        break;
      case 'calendar':
        await calendarPage(main);
        break;
      case 'register':
        await registerPage(main);
        break;
      case 'audit':
        await auditPage(main);
        break;
      case 'report':
        await reportPage(main);
        break;
      case 'api-keys':
        await apiKeysPage(main);
        break;
      case 'settings':
        await settingsPage(main);
        break;
      default:
        await sessionsPage(main);
    }
  } catch (err) {
    main.replaceChildren(h('p', { class: 'error', role: 'alert' }, dyn(() => t('common.error', { message: errorMessage(err) }))));
  }
}

setDocumentTitle(() => t('app.title.console'));
api.onUnauthorized = () => loginPage();
window.addEventListener('hashchange', () => void route());
void route();
