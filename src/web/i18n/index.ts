import { en } from './en.ts';
import { vi, type MessageKey, type Messages } from './vi.ts';

export type { MessageKey } from './vi.ts';
export type Language = 'vi' | 'en';

const catalogs: Record<Language, Messages> = { vi, en };
const STORAGE_KEY = 'tiepdan.lang';

function initialLanguage(): Language {
  try {
    const fromUrl = new URLSearchParams(location.search).get('lang');
    if (fromUrl === 'vi' || fromUrl === 'en') return fromUrl;
    const stored = localStorage.getItem(STORAGE_KEY);
    if (stored === 'vi' || stored === 'en') return stored;
  } catch {
    // storage may be disabled; Vietnamese is the default anyway
  }
  return 'vi';
}

let current: Language = initialLanguage();
const listeners = new Set<() => void>();

export function language(): Language {
  return current;
}

/** The message for `key` in the current language, with `{name}` placeholders filled in. */
export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  const template = catalogs[current][key] ?? vi[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/**
 * Switches language without reloading (a reload would drop a live session): every element made by
 * `text()` and every `onLanguageChange` listener is updated in place.
 */
export function setLanguage(lang: Language): void {
  current = lang;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // not fatal
  }
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll<HTMLElement>('[data-i18n]')) {
    const key = el.dataset.i18n as MessageKey;
    const params = el.dataset.i18nParams ? (JSON.parse(el.dataset.i18nParams) as Record<string, string>) : {};
    el.textContent = t(key, params);
  }
  for (const el of document.querySelectorAll<HTMLElement>('[data-i18n-attr]')) {
    for (const pair of (el.dataset.i18nAttr ?? '').split(';')) {
      const [attr, key] = pair.split(':');
      if (attr && key) el.setAttribute(attr, t(key as MessageKey));
    }
  }
  for (const listener of listeners) listener();
}

export function onLanguageChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function toggleLanguage(): void {
  setLanguage(current === 'vi' ? 'en' : 'vi');
}

/** Formats a date-time the way each language expects (Vietnamese: 24-hour, day first). */
export function formatDateTime(value: string | number | Date): string {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return d.toLocaleString(current === 'vi' ? 'vi-VN' : 'en-GB', { dateStyle: 'short', timeStyle: 'short' });
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toLocaleString(current === 'vi' ? 'vi-VN' : 'en-GB', { maximumFractionDigits: i === 0 ? 0 : 1 })} ${units[i]}`;
}
