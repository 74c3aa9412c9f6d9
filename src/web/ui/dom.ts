import { t, toggleLanguage, language, type MessageKey } from '../i18n/index.ts';

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | null | undefined>;

/** Creates an element: attributes (on* as listeners, booleans as presence), then children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** A span whose text follows the language switch. */
export function text(key: MessageKey, params?: Record<string, string | number>, tag: 'span' | 'strong' | 'p' | 'h1' | 'h2' | 'h3' | 'label' | 'legend' | 'th' | 'div' = 'span'): HTMLElement {
  const el = document.createElement(tag);
  setText(el, key, params);
  return el;
}

/** Sets an element's translated text (kept up to date by setLanguage). */
export function setText(el: HTMLElement, key: MessageKey, params?: Record<string, string | number>): void {
  el.dataset.i18n = key;
  if (params) el.dataset.i18nParams = JSON.stringify(params);
  else delete el.dataset.i18nParams;
  el.textContent = t(key, params);
}

/** Sets translated attributes (aria-label, title, placeholder) kept up to date by setLanguage. */
export function setAttrText(el: HTMLElement, pairs: Record<string, MessageKey>): void {
  el.dataset.i18nAttr = Object.entries(pairs)
    .map(([a, k]) => `${a}:${k}`)
    .join(';');
  for (const [a, k] of Object.entries(pairs)) el.setAttribute(a, t(k));
}

/** A button with translated text. */
export function button(key: MessageKey, onClick: (ev: MouseEvent) => void, attrs: Attrs = {}): HTMLButtonElement {
  const b = h('button', { type: 'button', ...attrs });
  setText(b, key);
  b.addEventListener('click', onClick as EventListener);
  return b;
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** The language switch shown on every page (labelled in the other language, as is customary). */
export function languageSwitch(): HTMLButtonElement {
  const b = h('button', { type: 'button', class: 'lang-switch', lang: language() === 'vi' ? 'en' : 'vi' });
  setText(b, 'lang.switch');
  setAttrText(b, { 'aria-label': 'lang.label' });
  b.addEventListener('click', () => {
    toggleLanguage();
    b.lang = language() === 'vi' ? 'en' : 'vi';
  });
  return b;
}

/** A polite live region: status messages are read out by screen readers. */
export function statusRegion(className = 'status'): HTMLElement {
  return h('div', { class: className, role: 'status', 'aria-live': 'polite' });
}

export function showError(region: HTMLElement, err: unknown): void {
  region.className = 'status error';
  setText(region, 'common.error', { message: errorMessage(err) });
}

/** A server refusal (`code`) in the page's language (issue 11 item 9); anything else as it came. */
export function errorMessage(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code)) {
    const key = `error.${code}` as MessageKey;
    return t(key) !== key ? t(key) : t('error.unknown', { code });
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A page header: title, optional subtitle, language switch. */
export function pageHeader(titleKey: MessageKey, ...extra: Child[]): HTMLElement {
  return h('header', { class: 'page-header' }, h('div', { class: 'brand' }, text('app.board', undefined, 'div'), text(titleKey, undefined, 'h1')), h('div', { class: 'header-tools' }, ...extra, languageSwitch()));
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return hh > 0 ? `${hh}:${two(mm)}:${two(ss)}` : `${two(mm)}:${two(ss)}`;
}
