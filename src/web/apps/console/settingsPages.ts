import { button, dyn, h, msg, setText, text } from '../../ui/dom.ts';
import { t, type MessageKey } from '../../i18n/index.ts';
import { api } from './api.ts';
import type { ApiKeyView } from '../../../contract/views/user.ts';
import { codeLabel, field, section, table, when, withStatus } from './widgets.ts';

/** The user roles, in the order the create forms offer them (an API key acts with one of them). */
const ROLES = ['reception_board', 'inspectorate', 'approver', 'technician', 'commune_operator', 'auditor', 'admin'];

type ApiKey = ApiKeyView;

/** API keys (administrator): list, create (the key is shown once), revoke. Never the keys themselves. */
export async function apiKeysPage(main: HTMLElement, created?: string): Promise<void> {
  const keys = await api.get('/api-keys');
  const status = h('p', { class: 'status', role: 'status', id: 'api-keys-status' });
  const list = table('apiKeys.title', keys, [
    { key: 'apiKeys.name', cell: (k) => k.name },
    { key: 'apiKeys.role', cell: (k) => codeLabel(k.role) },
    { key: 'apiKeys.prefix', cell: (k) => h('code', {}, `${k.keyPrefix}…`) },
    { key: 'apiKeys.createdAt', cell: (k) => when(k.createdAt) },
    { key: 'apiKeys.lastUsedAt', cell: (k) => when(k.lastUsedAt) },
    { key: 'apiKeys.state', cell: (k) => h('span', { 'data-state': k.revokedAt ? 'revoked' : 'active' }, k.revokedAt ? dyn(() => t('apiKeys.revokedAt', { at: when(k.revokedAt) })) : msg('apiKeys.active')) },
    {
      key: 'common.actions',
      cell: (k) =>
        k.revokedAt
          ? ''
          : button('apiKeys.revoke', () => {
              if (!confirm(t('apiKeys.confirmRevoke', { name: k.name }))) return;
              void withStatus(status, async () => {
                await api.call('DELETE', `/api-keys/${k.id}`);
                await apiKeysPage(main);
                const fresh = document.getElementById('api-keys-status');
                if (fresh) {
                  fresh.className = 'status ok';
                  setText(fresh, 'apiKeys.revokedDone');
                }
              });
            }, { 'data-revoke': k.id, class: 'danger' }),
    },
  ], (k) => k.id);

  const name = h('input', { type: 'text', required: true, maxlength: 100, autocomplete: 'off' });
  const role = h('select', {}, ...ROLES.map((r) => h('option', { value: r }, dyn(() => codeLabel(r)))));
  const createStatus = h('p', { class: 'status', role: 'status', id: 'api-key-create-status' });
  const form = h('form', { class: 'stack', id: 'api-key-form' }, h('div', { class: 'row top' }, field('api-key-name', 'apiKeys.name', name), field('api-key-role', 'apiKeys.role', role)), h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, text('apiKeys.create'))), createStatus);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void withStatus(createStatus, async () => {
      const answer = await api.post<{ key: string }>('/api-keys', { name: name.value.trim(), role: role.value });
      await apiKeysPage(main, answer.key);
    });
  });
  // The new key is shown once, on the page drawn after the creation, and never again.
  const fresh = created ? h('div', { class: 'notice stack', role: 'status' }, text('apiKeys.created', undefined, 'p'), h('code', { id: 'api-key-new', class: 'secret' }, created)) : null;
  main.replaceChildren(section('apiKeys.title', fresh, list, status), section('admin.form.title', form));
}

type Leaf = { path: string; value: string | number | boolean };

function leaves(value: unknown, prefix = ''): Leaf[] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return [{ path: prefix, value }];
  return [];
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let at = target;
  for (const p of parts.slice(0, -1)) at = (at[p] ??= {}) as Record<string, unknown>;
  at[parts.at(-1)!] = value;
}

/**
 * The run-time settings (administrator): every field of GET /settings as a labelled input, saved
 * with one PUT (audited by the server). An emptied field is left out, so it takes its default.
 */
export async function settingsPage(main: HTMLElement): Promise<void> {
  const current = await api.get<Record<string, unknown>>('/settings');
  const status = h('p', { class: 'status', role: 'status', id: 'settings-status' });
  const controls: { leaf: Leaf; input: HTMLInputElement }[] = [];
  const fields = leaves(current).map((leaf) => {
    const id = `setting-${leaf.path.replace(/\./g, '-')}`;
    const input =
      typeof leaf.value === 'boolean'
        ? h('input', { type: 'checkbox', checked: leaf.value })
        : h('input', { type: typeof leaf.value === 'number' ? 'number' : 'text', step: 'any', value: String(leaf.value), autocomplete: 'off' });
    controls.push({ leaf, input });
    const key = `settings.${leaf.path}` as MessageKey;
    const label = h('label', { for: id });
    if (t(key) !== key) setText(label, key);
    else label.textContent = leaf.path;
    input.id = id;
    return h('div', { class: 'field' }, label, input);
  });
  const form = h('form', { class: 'stack', id: 'settings-form' }, text('settings.hint', undefined, 'p'), h('div', { class: 'form-cols' }, ...fields), h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: 'settings-save' }, text('common.save'))), status);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const body: Record<string, unknown> = {};
    for (const { leaf, input } of controls) {
      if (typeof leaf.value === 'boolean') setPath(body, leaf.path, input.checked);
      else if (input.value.trim() !== '') setPath(body, leaf.path, typeof leaf.value === 'number' ? Number(input.value) : input.value.trim());
    }
    void withStatus(status, () => api.put('/settings', body), 'common.saved');
  });
  main.replaceChildren(section('settings.title', form));
}
