import { append, h, Localized, setText, setTextLocalized, text } from '../../ui/dom.ts';
import { formatDateTime, t, type MessageKey } from '../../i18n/index.ts';
import { plainError } from './plainErrors.ts';

export interface Column<T> {
  key: MessageKey | string;
  /** A header text that is not a message key (API field names in generic tables). */
  raw?: boolean;
  /** A composed header (raw), computed again on a language switch. */
  label?: () => string;
  cell: (row: T) => Node | string | number | Localized | null | undefined;
  num?: boolean;
}

/** An accessible table with a caption; rows may carry a data-id for tests and scripts. */
export function table<T>(caption: MessageKey | string | Localized, rows: T[], columns: Column<T>[], rowId?: (row: T) => string): HTMLTableElement {
  const cap = h('caption', { class: 'visually-hidden' });
  if (caption instanceof Localized) setTextLocalized(cap, caption);
  else if (caption.includes('.')) setText(cap, caption as MessageKey);
  else cap.textContent = caption;
  const head = h(
    'tr',
    {},
    ...columns.map((c) => {
      const th = h('th', { scope: 'col' });
      if (c.label) setTextLocalized(th, c.label);
      else if (c.raw) th.textContent = c.key;
      else setText(th, c.key as MessageKey);
      return th;
    }),
  );
  const body = h('tbody');
  for (const row of rows) {
    const tr = h('tr', rowId ? { 'data-id': rowId(row) } : {});
    for (const c of columns) {
      const value = c.cell(row);
      const td = h('td', c.num ? { class: 'num' } : {});
      if (value instanceof Node || value instanceof Localized) append(td, value);
      else if (value !== null && value !== undefined) {
        // A text cell is often a translated label or date (codeLabel, display, when): it is
        // computed again in the new language on a switch.
        setTextLocalized(td, () => {
          const again = c.cell(row);
          return again instanceof Node || again instanceof Localized || again === null || again === undefined ? String(value) : String(again);
        });
      }
      tr.append(td);
    }
    body.append(tr);
  }
  if (rows.length === 0) body.append(h('tr', {}, h('td', { colspan: columns.length }, text('admin.list.empty'))));
  return h('table', {}, cap, h('thead', {}, head), body);
}

export function statusBadge(status: string): HTMLElement {
  const key = `status.${status}` as MessageKey;
  const el = h('span', { class: `badge ${status === 'live' ? 'poor' : status === 'approved' || status === 'tested' || status === 'invitations_sent' ? 'good' : 'unknown'}`, 'data-status': status });
  if (t(key) !== key) setText(el, key);
  else el.textContent = status;
  return el;
}

export function when(iso: string | null | undefined): string {
  return iso ? formatDateTime(iso) : '—';
}

/** A labelled form field. */
export function field(id: string, key: MessageKey, control: HTMLElement): HTMLElement {
  const label = h('label', { for: id });
  setText(label, key);
  control.id = id;
  return h('div', { class: 'field' }, label, control);
}

/** Runs an action, showing its error (or a success message) in a live region. */
export async function withStatus(region: HTMLElement, action: () => Promise<unknown>, okKey?: MessageKey): Promise<boolean> {
  region.className = 'status';
  delete region.dataset.code;
  setTextLocalized(region, () => '…');
  try {
    await action();
    region.className = 'status ok';
    if (okKey) setText(region, okKey);
    else setTextLocalized(region, () => '');
    return true;
  } catch (err) {
    region.className = 'status error';
    // Plain words for the codes the console knows (a rule's refusal, a validation failure); the
    // code stays on the element for support staff and tests.
    region.dataset.code = (err as { code?: string }).code ?? '';
    setTextLocalized(region, () => t('common.error', { message: plainError(err).text }));
    return false;
  }
}

export function section(titleKey: MessageKey, ...children: (Node | null | undefined | false)[]): HTMLElement {
  const id = `s-${titleKey.replace(/\W/g, '-')}-${Math.random().toString(36).slice(2, 7)}`;
  const heading = text(titleKey, undefined, 'h2');
  heading.id = id;
  return h('section', { class: 'card stack', 'aria-labelledby': id }, heading, ...children);
}

/** Generic rendering of an API value in a table cell: dates readable, objects summarised. */
export function display(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'boolean') return value ? t('common.yes') : t('common.no');
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return formatDateTime(value);
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** The column of an API field: its translated label when the catalogue has one. */
export function fieldColumn<T extends Record<string, unknown>>(name: string, cell?: (row: T) => Node | string | number | null | undefined): Column<T> {
  const key = `field.${name}` as MessageKey;
  const known = t(key) !== key;
  return { key: known ? key : name, raw: !known, cell: cell ?? ((row: T) => display(row[name])) };
}

/** A translated label for a value that is a code (status, case type, role), or the code itself. */
export function codeLabel(code: string): string {
  for (const prefix of ['status.', 'caseType.', 'role.', 'userRole.', 'kind.', 'field.']) {
    const key = `${prefix}${code}` as MessageKey;
    if (t(key) !== key) return t(key);
  }
  return code;
}
