import { onLanguageChange, t, toggleLanguage, language, type MessageKey } from '../i18n/index.ts';

/**
 * A string computed in the current language and computed again on every language switch (issue 11
 * item 9): for what `setText`'s one key cannot carry — composed texts, option labels, attributes
 * (aria-label, title, placeholder). Give it to `h()` as an attribute value or a child.
 */
export class Localized {
  readonly render: () => string;
  constructor(render: () => string) {
    this.render = render;
  }
}

/** One message, kept in the page's language. */
export const msg = (key: MessageKey, params?: Record<string, string | number>): Localized => new Localized(() => t(key, params));
/** A composed string (built with `t()` calls), kept in the page's language. */
export const dyn = (render: () => string): Localized => new Localized(render);

type Child = Node | string | number | Localized | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | Localized | null | undefined>;

/**
 * The re-apply functions of the elements that carry localized strings. A WeakMap plus a marker
 * attribute, so that a switch updates only what is in the document and a removed element is
 * collected with its functions (pages redraw by replaceChildren; nothing has to unregister).
 */
const localized = new WeakMap<Element, Map<string, () => void>>();
let childSlots = 0;

function bind(el: Element, slot: string, apply: () => void): void {
  let slots = localized.get(el);
  if (slots === undefined) {
    slots = new Map();
    localized.set(el, slots);
  }
  slots.set(slot, apply);
  el.setAttribute('data-i18n-fn', '');
  apply();
}

onLanguageChange(() => {
  for (const el of document.querySelectorAll('[data-i18n-fn]')) for (const apply of localized.get(el)?.values() ?? []) apply();
});

/** Computes an element's localized strings again now (after the data they show changed). */
export function refreshLocalized(el: Element): void {
  for (const apply of localized.get(el)?.values() ?? []) apply();
}

/** The document's title (the tab, and what a screen reader announces first), kept in the page's language. */
export function setDocumentTitle(render: () => string): void {
  const apply = () => {
    document.title = render();
  };
  apply();
  onLanguageChange(apply);
}

/** Sets an attribute that follows the language switch; an empty value removes it. */
export function setAttrLocalized(el: Element, name: string, value: Localized): void {
  bind(el, `attr:${name}`, () => {
    const v = value.render();
    if (v === '') el.removeAttribute(name);
    else el.setAttribute(name, v);
  });
}

/** Sets an element's text from a composed string that follows the language switch. */
export function setTextLocalized(el: HTMLElement, value: Localized | (() => string)): void {
  delete el.dataset.i18n;
  delete el.dataset.i18nParams;
  const render = value instanceof Localized ? value.render : value;
  bind(el, 'text', () => {
    el.textContent = render();
  });
}

/** Creates an element: attributes (on* as listeners, booleans as presence), then children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value instanceof Localized) setAttrLocalized(el, name, value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (child instanceof Localized) {
      const node = document.createTextNode('');
      parent.appendChild(node);
      if (parent instanceof Element) {
        const slot = `child:${++childSlots}`;
        bind(parent, slot, () => {
          // Once the text was replaced (textContent, replaceChildren) its function goes too.
          if (node.parentNode !== parent) localized.get(parent)?.delete(slot);
          else node.data = child.render();
        });
      } else node.data = child.render();
      continue;
    }
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
  localized.get(el)?.delete('text');
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
  setTextLocalized(region, () => t('common.error', { message: errorMessage(err) }));
}

/** An error the page itself raises, worded in whatever language the page is in when it is shown. */
export class LocalizedError extends Error {
  readonly key: MessageKey;
  readonly params: Record<string, string | number>;
  constructor(key: MessageKey, params: Record<string, string | number> = {}) {
    super(t(key, params));
    this.key = key;
    this.params = params;
  }
}

/** A server refusal (`code`) in the page's language (issue 11 item 9); anything else as it came. */
export function errorMessage(err: unknown): string {
  if (err instanceof LocalizedError) return t(err.key, err.params);
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
