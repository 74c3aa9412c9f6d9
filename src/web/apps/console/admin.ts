import { button, dyn, h, LocalizedError, msg, setText, text } from '../../ui/dom.ts';
import { t, type MessageKey } from '../../i18n/index.ts';
import { api } from './api.ts';
import { codeLabel, display, field, fieldColumn, section, table, withStatus, type Column } from './widgets.ts';

type Row = Record<string, unknown>;

/** Columns shown for each administered list (field names of the control API). */
const LISTS: Record<string, { title: MessageKey; path: string; fields: string[] }> = {
  'bridge-points': { title: 'nav.bridgePoints', path: '/bridge-points?limit=200', fields: ['code', 'name', 'kind', 'contactName', 'contactPhone', 'networkNotes', 'isSample', 'active'] },
  users: { title: 'nav.users', path: '/users?limit=200', fields: ['username', 'displayName', 'role', 'active', 'lastLoginAt'] },
};

function rowsOf(answer: unknown): Row[] {
  if (Array.isArray(answer)) return answer as Row[];
  const items = (answer as { items?: unknown }).items;
  return Array.isArray(items) ? (items as Row[]) : [];
}

interface FormField {
  name: string;
  type: 'text' | 'password' | 'select' | 'checkbox';
  options?: string[];
  required?: boolean;
}

/** What can be added from the console (the rest is edited through the API, documented at /docs). */
const FORMS: Record<string, { path: string; fields: FormField[] }> = {
  'bridge-points': {
    path: '/bridge-points',
    fields: [
      { name: 'code', type: 'text', required: true },
      { name: 'name', type: 'text', required: true },
      { name: 'kind', type: 'select', options: ['commune', 'ward', 'central', 'agency'] },
      { name: 'contactName', type: 'text' },
      { name: 'contactPhone', type: 'text' },
      { name: 'networkNotes', type: 'text' },
    ],
  },
  users: {
    path: '/users',
    fields: [
      { name: 'username', type: 'text', required: true },
      { name: 'displayName', type: 'text', required: true },
      { name: 'role', type: 'select', options: ['reception_board', 'inspectorate', 'approver', 'technician', 'commune_operator', 'auditor', 'admin'] },
      { name: 'password', type: 'password', required: true },
    ],
  },
};

function createForm(name: string, onCreated: () => void): HTMLElement | null {
  const spec = FORMS[name];
  if (!spec) return null;
  const status = h('p', { class: 'status', role: 'status' });
  const controls = new Map<string, HTMLInputElement | HTMLSelectElement>();
  const form = h('form', { class: 'stack', id: `create-${name}` });
  const row = h('div', { class: 'row top' });
  for (const f of spec.fields) {
    const id = `create-${name}-${f.name}`;
    const control =
      f.type === 'select'
        ? h('select', {}, ...(f.options ?? []).map((o) => h('option', { value: o }, dyn(() => codeLabel(o)))))
        : h('input', { type: f.type, required: f.required ?? false, autocomplete: f.type === 'password' ? 'new-password' : 'off' });
    controls.set(f.name, control);
    const key = `field.${f.name}` as MessageKey;
    row.append(field(id, t(key) !== key ? key : 'common.details', control));
  }
  form.append(row, h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, text('common.create'))), status);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const body: Record<string, string> = {};
    for (const [k, c] of controls) if (c.value.trim() !== '') body[k] = c.value.trim();
    void withStatus(status, async () => {
      await api.post(spec.path, body);
      onCreated();
    }, 'common.saved');
  });
  return section('admin.form.title', form);
}

function csvImport(onDone: () => void): HTMLElement {
  const status = h('p', { class: 'status', role: 'status' });
  const area = h('textarea', { rows: 5, class: 'minutes', placeholder: 'code,name,kind\nX03,UBND xã …,commune' });
  const file = h('input', { type: 'file', accept: '.csv,text/csv' });
  file.addEventListener('change', () => void file.files?.[0]?.text().then((v) => (area.value = v)));
  return section(
    'admin.csv.title',
    field('csv-file', 'admin.csv.file', file),
    field('csv-text', 'admin.csv.text', area),
    h('div', { class: 'row' }, button('admin.csv.import', () => void withStatus(status, async () => {
      await api.postText('/bridge-points/import', area.value, 'text/csv; charset=utf-8');
      onDone();
    }, 'common.saved'), { class: 'primary' })),
    status,
  );
}

/** What can be changed on an existing row (PATCH /<list>/:id); only changed fields are sent. */
const EDITS: Record<string, { path: string; label: string; fields: FormField[] }> = {
  'bridge-points': {
    path: '/bridge-points',
    label: 'name',
    fields: [
      { name: 'name', type: 'text', required: true },
      { name: 'kind', type: 'select', options: ['commune', 'ward', 'central', 'agency'] },
      { name: 'contactName', type: 'text' },
      { name: 'contactPhone', type: 'text' },
      { name: 'networkNotes', type: 'text' },
      { name: 'active', type: 'checkbox' },
    ],
  },
  users: {
    path: '/users',
    label: 'username',
    fields: [
      { name: 'displayName', type: 'text', required: true },
      { name: 'role', type: 'select', options: ['reception_board', 'inspectorate', 'approver', 'technician', 'commune_operator', 'auditor', 'admin'] },
      { name: 'active', type: 'checkbox' },
    ],
  },
};

/** The edit form of one row, shown under the list; saving redraws the list with "Đã lưu". */
function editForm(name: string, row: Row, onSaved: () => Promise<void>, onCancel: () => void): HTMLElement {
  const spec = EDITS[name]!;
  const status = h('p', { class: 'status', role: 'status', id: `edit-${name}-status` });
  const controls = new Map<string, HTMLInputElement | HTMLSelectElement>();
  const grid = h('div', { class: 'row top' });
  for (const f of spec.fields) {
    const id = `edit-${name}-${f.name}`;
    const value = row[f.name];
    const control =
      f.type === 'select'
        ? h('select', {}, ...(f.options ?? []).map((o) => h('option', { value: o, selected: o === value }, codeLabel(o))))
        : f.type === 'checkbox'
          ? h('input', { type: 'checkbox', checked: value === true })
          : h('input', { type: 'text', required: f.required ?? false, value: typeof value === 'string' ? value : '', autocomplete: 'off' });
    controls.set(f.name, control);
    const key = f.name === 'active' ? 'edit.active' : (`field.${f.name}` as MessageKey);
    grid.append(field(id, t(key) !== key ? key : 'common.details', control));
  }
  const form = h('form', { class: 'stack', id: `edit-${name}` }, grid, h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary', id: `edit-${name}-save` }, text('edit.save')), button('edit.cancel', onCancel)), status);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const body: Record<string, string | boolean> = {};
    for (const [k, c] of controls) {
      const next = c instanceof HTMLInputElement && c.type === 'checkbox' ? c.checked : c.value.trim();
      if (next !== (row[k] ?? '')) body[k] = next;
    }
    if (Object.keys(body).length === 0) {
      setText(status, 'edit.nothing');
      return;
    }
    void withStatus(status, async () => {
      await api.patch(`${spec.path}/${String(row.id)}`, body);
      await onSaved();
    });
  });
  const box = section('edit.action', form);
  const heading = box.querySelector('h2');
  if (heading) setText(heading, 'edit.title', { name: String(row[spec.label] ?? '') });
  return box;
}

/** A list of what the control API manages, with "add" and "edit" forms where the console offers them. */
export async function listPage(main: HTMLElement, name: string, saved?: boolean): Promise<void> {
  const spec = LISTS[name];
  if (!spec) return;
  const rows = rowsOf(await api.get<unknown>(spec.path));
  const columns: Column<Row>[] = spec.fields.map((f) => fieldColumn<Row>(f, (r) => (f === 'type' || f === 'kind' || f === 'role' ? codeLabel(String(r[f])) : display(r[f]))));
  const reload = () => void listPage(main, name);
  const editSlot = h('div', { id: `edit-${name}-slot` });
  const savedNote = saved ? h('p', { class: 'status ok', role: 'status', id: `edit-${name}-saved` }, msg('common.saved')) : null;
  if (EDITS[name]) {
    columns.push({
      key: 'common.actions',
      cell: (r) =>
        button('edit.action', () => {
          editSlot.replaceChildren(editForm(name, r, () => listPage(main, name, true), () => editSlot.replaceChildren()));
          editSlot.querySelector<HTMLElement>('input, select')?.focus();
        }, { 'data-edit': String(r.id ?? '') }),
    });
  }
  main.replaceChildren(section(spec.title, savedNote, table(spec.title, rows, columns, (r) => String(r.id ?? ''))), editSlot, createForm(name, reload) ?? '', name === 'bridge-points' ? csvImport(reload) : '');
}

export async function auditPage(main: HTMLElement): Promise<void> {
  const status = h('p', { class: 'status', role: 'status', id: 'audit-verify-status' });
  const rows = rowsOf(await api.get<unknown>('/audit?limit=100'));
  const verify = button(
    'audit.verify',
    () =>
      void (async () => {
        const ok = await withStatus(status, async () => {
          const r = await api.get<{ valid: boolean; checked: number; firstBrokenSeq: number | null; reason: string | null }>('/audit/verify');
          if (!r.valid) throw new LocalizedError('audit.broken', { details: `#${r.firstBrokenSeq ?? '?'}: ${r.reason ?? ''}` });
        }, 'audit.ok');
        status.dataset.valid = String(ok);
      })(),
    { id: 'audit-verify' },
  );
  const fields = ['seq', 'at', 'actorLabel', 'action', 'entity', 'entityId'];
  const columns: Column<Row>[] = fields.map((f) => fieldColumn<Row>(f));
  main.replaceChildren(section('nav.audit', h('div', { class: 'row' }, verify), status, table('nav.audit', rows, columns)));
}

export async function reportPage(main: HTMLElement): Promise<void> {
  const year = new Date().getFullYear();
  const yearInput = h('input', { type: 'number', id: 'report-year', value: year, min: 2020, max: 2100 });
  const out = h('div', { class: 'stack', id: 'report-out' });
  const csv = h('a', { class: 'button', href: '#', id: 'report-csv' }, text('report.csv'));
  const load = async () => {
    const report = await api.get<Row>(`/reports/annual?year=${yearInput.value}`);
    const label = (k: string) => {
      const key = `field.${k}` as MessageKey;
      return t(key) !== key ? t(key) : codeLabel(k);
    };
    const value = (v: unknown): string =>
      v !== null && typeof v === 'object' && !Array.isArray(v)
        ? Object.entries(v as Row)
            .map(([k, n]) => `${codeLabel(k)}: ${typeof n === 'object' && n !== null ? Object.entries(n as Row).map(([a, b]) => `${codeLabel(a)} ${display(b)}`).join(', ') : display(n)}`)
            .join('; ')
        : display(v);
    out.replaceChildren(
      ...Object.entries(report).map(([key, v]) =>
        typeof v === 'object' && v !== null && !Array.isArray(v)
          ? h('div', {}, h('h3', {}, dyn(() => label(key))), table(dyn(() => label(key)), Object.entries(v as Row), [
              { key: 'common.details', cell: (r) => label(r[0]) },
              { key: 'report.value', cell: (r) => value(r[1]), num: true },
            ]))
          : h('p', {}, h('strong', {}, dyn(() => `${label(key)}: `)), dyn(() => display(v))),
      ),
    );
  };
  csv.addEventListener('click', (ev) => {
    ev.preventDefault();
    void (async () => {
      const response = await fetch(`/api/v1/reports/annual.csv?year=${yearInput.value}`, { headers: { authorization: `Bearer ${api.token ?? ''}` } });
      const url = URL.createObjectURL(await response.blob());
      const a = h('a', { href: url, download: `bao-cao-${yearInput.value}.csv` });
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 30_000);
    })();
  });
  const label = h('label', { for: 'report-year' });
  setText(label, 'report.year');
  yearInput.addEventListener('change', () => void load());
  main.replaceChildren(section('nav.report', h('div', { class: 'row' }, label, yearInput, csv), out));
  await load();
}
