import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t, { type Test } from 'tap';
import type { Browser, Page } from 'playwright-core';
import { TiepdanServer } from '../../src/server.ts';
import { en } from '../../src/web/i18n/en.ts';
import { vi } from '../../src/web/i18n/vi.ts';
import { silentLogger, tempDataDir, testConfig } from '../helpers/env.ts';
import { launchChromium } from '../helpers/browser.ts';
import { writeFakeRecording } from '../recording/fakeRecording.ts';
import { ApiClient, eventually, newPage } from './helpers.ts';

/**
 * Issue 11 item 9: the language switch re-renders every string. On each page of the console, the
 * room and the pre-flight test, in Chromium: switch vi → en and no Vietnamese message from vi.ts
 * is left in the visible text, placeholders, aria-labels, titles, option labels or the document
 * title; switch back and no English message is left (and a page that does not change by itself
 * reads exactly as before). The data is written without diacritics, so that what is found is a
 * message, not a name. Also (structure review Q8): the live health table keeps the keyboard focus
 * on its Mute button across stats ticks.
 */

t.setTimeout(600_000);
const LAPTOP = { width: 1366, height: 900 };
type Catalog = Record<string, string>;

/** The fixed parts of each message of `mine` that the other language does not share. */
function fragments(mine: Catalog, other: Catalog, keep: (f: string) => boolean): string[] {
  const otherText = Object.values(other).join('\n');
  const out = new Set<string>();
  for (const [key, value] of Object.entries(mine)) {
    if (other[key] === value) continue;
    for (const part of value.split(/\{\w+\}/)) {
      const f = part.trim().replace(/^[,.:;()–-]+|[,.:;()–-]+$/g, '').trim();
      if (f.length >= 2 && keep(f) && !otherText.includes(f)) out.add(f);
    }
  }
  return [...out];
}
const VIETNAMESE = fragments(vi, en, (f) => /[À-ỹĐđ]/.test(f));
// English leftovers: whole words of some length (short ones like "OK" or "ms" are shared or data).
const ENGLISH = fragments(en, vi, (f) => f.length >= 5 && /[a-z]{3}/.test(f) && !/[À-ỹĐđ]/.test(f));

/** Every string a user sees or hears on the page, with where it was found. */
function pageStrings(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const lang = document.documentElement.lang;
    const out: string[] = [];
    // The language switch is labelled in the other language, as is customary (it carries `lang`).
    const otherLanguage = (el: Element) => el.closest('[lang]') !== document.documentElement && el.closest('[lang]')?.getAttribute('lang') !== lang;
    const shown = (el: Element) => el.checkVisibility({ visibilityProperty: true }) && !otherLanguage(el);
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const parent = n.parentElement;
      const s = n.textContent?.trim() ?? '';
      // A textarea's text is the document being written (the minutes), not the interface.
      if (!s || !parent || parent.closest('script, style, textarea, select')) continue;
      if (shown(parent)) out.push(`text: ${s}`);
    }
    for (const select of document.querySelectorAll('select')) if (shown(select)) for (const o of select.options) out.push(`option: ${o.text.trim()}`);
    for (const el of document.querySelectorAll('[placeholder], [aria-label], [title], [aria-description], [alt]')) {
      if (!shown(el) && !(el instanceof HTMLVideoElement)) continue;
      for (const a of ['placeholder', 'aria-label', 'title', 'aria-description', 'alt']) {
        const v = el.getAttribute(a);
        if (v) out.push(`${a}: ${v}`);
      }
    }
    out.push(`document.title: ${document.title}`);
    return out;
  });
}

/** `data`: texts the server stores in Vietnamese (the sổ's lines, the holidays' names): content, not interface. */
const leftovers = (strings: string[], frags: string[], data: string[] = []) =>
  strings.flatMap((s) => {
    const rest = data.reduce((acc, d) => acc.replaceAll(d, ''), s);
    return frags.filter((f) => rest.includes(f)).map((f) => `${f}  ⟵  ${s}`);
  });

/** Every string in an API answer, longest first (so that a long one is taken out before its parts). */
function stringsOf(value: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string' && v.trim().length >= 2) out.push(v.trim());
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return out.sort((a, b) => b.length - a.length);
}

async function switchTo(page: Page, lang: 'vi' | 'en'): Promise<void> {
  await page.click('.lang-switch');
  await page.waitForFunction((l) => document.documentElement.lang === l, lang);
}

/**
 * The check on one page: vi → en → vi. `stable`: the page does not change by itself (no live
 * figures), so coming back must give exactly what was there.
 */
async function checkPage(t: Test, page: Page, name: string, stable = true, data: string[] = []): Promise<void> {
  t.equal(await page.evaluate(() => document.documentElement.lang), 'vi', `${name}: opens in Vietnamese`);
  const before = await pageStrings(page);
  t.ok(leftovers(before, VIETNAMESE).length > 0, `${name}: (the check sees Vietnamese to begin with)`);
  await switchTo(page, 'en');
  const inEnglish = await pageStrings(page);
  t.same(leftovers(inEnglish, VIETNAMESE, data), [], `${name}: no Vietnamese message left after switching to English`);
  await switchTo(page, 'vi');
  const back = await pageStrings(page);
  t.same(leftovers(back, ENGLISH, data), [], `${name}: no English message left after switching back`);
  if (stable) t.same(back.sort(), before.sort(), `${name}: back in Vietnamese it reads as before`);
}

async function login(page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(url);
  await page.fill('#login-username', username);
  await page.fill('#login-password', password);
  await page.click('#login button[type=submit]');
}

/** The console page at `hash` once it has drawn (no "loading", its async parts filled in). */
async function openConsole(page: Page, hash: string, ready: string): Promise<void> {
  await page.evaluate((h) => (location.hash = h), hash);
  await page.waitForSelector(ready, { timeout: 60_000 });
  await page.waitForFunction(() => !document.querySelector('#main [data-i18n="common.loading"]'));
  await page.waitForLoadState('networkidle');
}

t.test('switching language re-renders every string, on every page', async (t) => {
  const data = await tempDataDir();
  t.teardown(() => data.remove());
  const srv = await TiepdanServer.start(await testConfig(data.dir, { TLS: 'auto', MEDIASOUP_NUM_WORKERS: '1' }), silentLogger());
  t.teardown(() => srv.stop());

  // Data without diacritics (see above), through the API.
  const api = await ApiClient.forServer(srv);
  const adminPassword = (await readFile(path.join(data.dir, 'initial-admin-password'), 'utf8')).trim();
  const admin = await api.login('admin', adminPassword);
  const password = 'Mat-khau-thu-nghiem-2026';
  await api.ok('POST', '/api/v1/users', { username: 'canbo', displayName: 'Can bo Tiep dan', role: 'reception_board', password }, admin);
  await api.ok('POST', '/api/v1/users', { username: 'chutich', displayName: 'Chu tich tinh', role: 'approver', password }, admin);
  const central = await api.ok<{ id: string }>('POST', '/api/v1/bridge-points', { code: 'TT', name: 'Tru so tinh', kind: 'central' }, admin);
  const commune = await api.ok<{ id: string }>('POST', '/api/v1/bridge-points', { code: 'X01', name: 'UBND xa Tan Phu', kind: 'commune' }, admin);
  const settings = await api.ok<Record<string, unknown>>('GET', '/api/v1/settings', undefined, admin);
  await api.ok('PUT', '/api/v1/settings', { ...settings, approvalLeadWorkingDays: 0 }, admin);
  const organiser = await api.login('canbo', password);
  const chairman = await api.login('chutich', password);
  const kase = await api.ok<{ id: string }>('POST', '/api/v1/cases', { type: 'khieu_nai', title: 'Boi thuong dat thon 3', summary: 'Muc boi thuong', criteria: ['a'], communeBridgePointId: commune.id, people: [{ role: 'complainant', fullName: 'Nguyen Van An', address: 'Thon 3' }] }, organiser);
  const start = new Date(Date.now() + 2 * 3_600_000);
  const session = await api.ok<{ id: string }>('POST', '/api/v1/sessions', {
    title: 'Tiep dan dinh ky',
    scheduledStart: start.toISOString(),
    scheduledEnd: new Date(start.getTime() + 3 * 3_600_000).toISOString(),
    location: 'Tru so tinh',
    chairTitle: 'Chu tich tinh',
    autoRecord: false,
    caseIds: [kase.id],
    bridgePointIds: [central.id, commune.id],
  }, organiser);
  await api.ok('POST', `/api/v1/sessions/${session.id}/submit`, {}, organiser);
  await api.ok('POST', `/api/v1/sessions/${session.id}/decision`, { decision: 'approved', comment: 'Dong y' }, chairman);
  const sent = await api.ok<{ invitations: { token: string; role: string; bridgePointId: string | null }[] }>('POST', `/api/v1/sessions/${session.id}/invitations`, {}, organiser);
  const endpoint = sent.invitations.find((i) => i.bridgePointId === commune.id && i.role === 'endpoint')!;
  await api.ok('POST', `/api/v1/sessions/${session.id}/go-live`, { override: { reason: 'Kiem thu tai cho' } }, chairman);
  await api.ok('PUT', `/api/v1/sessions/${session.id}/outcomes`, { outcomes: [{ caseId: kase.id, outcome: 'hen_tra_loi', conclusion: 'Giao So kiem tra', answerDeadline: new Date(Date.now() + 20 * 86_400_000).toISOString().slice(0, 10), contactPerson: 'Ong Le Van Ba' }] }, organiser);
  // A draft three weeks ahead, for the upcoming list and a draft's own page.
  const later = new Date(Date.now() + 21 * 86_400_000);
  const draft = await api.ok<{ id: string }>('POST', '/api/v1/sessions', { title: 'Tiep dan thang sau', scheduledStart: later.toISOString(), scheduledEnd: new Date(later.getTime() + 3 * 3_600_000).toISOString(), location: 'Tru so tinh', chairTitle: 'Chu tich tinh', caseIds: [], bridgePointIds: [central.id] }, organiser);

  // A recording on the disk, for the recordings page with its retention and hold forms.
  const recordedId = randomUUID();
  await writeFakeRecording(srv.recordings.recordingsDir, recordedId, { segments: 1 });

  const browser: Browser = await launchChromium();
  t.teardown(() => browser.close());
  const log: string[] = [];
  t.teardown(() => {
    if (log.length > 0) t.comment(log.slice(0, 40).join('\n'));
  });
  const options = { ignoreHTTPSErrors: true, viewport: LAPTOP, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' };

  // The console as the reception board, page by page.
  const board = await browser.newContext(options);
  const page = await newPage(board, 'board', log);
  page.on('dialog', (d) => void d.accept());
  await page.goto(`${srv.url}/console`);
  await page.waitForSelector('#login');
  await checkPage(t, page, 'login');
  await login(page, `${srv.url}/console#/sessions`, 'canbo', password);
  await page.waitForSelector('#new-session');
  await page.waitForLoadState('networkidle');
  await checkPage(t, page, 'sessions (home, with the follow-ups due)');
  const year = new Date().getFullYear();
  const today = new Date(Date.now() + 7 * 3_600_000).toISOString().slice(0, 10);
  const registerData = stringsOf(await api.ok('GET', `/api/v1/register?from=${today.slice(0, 7)}-01&to=${today}&limit=500`, undefined, organiser));
  const calendarData = stringsOf(await api.ok('GET', `/api/v1/calendar/exceptions?from=${year}-01-01&to=${year}-12-31`, undefined, organiser));
  const boardPages: [string, string, string[]?][] = [
    [`#/session/${session.id}`, `form#outcome-${kase.id.slice(0, 8)}`],
    [`#/session/${draft.id}`, '#action-submit'],
    ['#/cases', 'main table'],
    [`#/case/${kase.id}`, '#case-detail'],
    ['#/cases/new', '#case-form'],
    ['#/register', '#register-results table', registerData],
    ['#/calendar', 'main table', calendarData],
    ['#/recordings', `tr[data-id="${recordedId}"]`],
    ['#/bridge-points', 'main table'],
    ['#/report', '#report-out table'],
  ];
  for (const [hash, ready, data] of boardPages) {
    await openConsole(page, hash, ready);
    await checkPage(t, page, `console ${hash.replace(/[0-9a-f-]{36}/, ':id')}`, true, data);
  }
  // A refusal in the status region follows the switch too (its words come from the catalogue).
  await openConsole(page, `#/session/${draft.id}`, '#action-submit');
  await page.click('#action-submit');
  await page.waitForSelector('#session-action-status.error');
  await checkPage(t, page, 'a refusal on the session page');

  // The administrator's pages.
  const adminContext = await browser.newContext(options);
  const adminPage = await newPage(adminContext, 'admin', log);
  await login(adminPage, `${srv.url}/console#/users`, 'admin', adminPassword);
  await adminPage.waitForSelector('main table');
  // The administrator's display name, as the server seeded it, is a name.
  const adminName = (await api.ok<{ items: { username: string; displayName: string }[] }>('GET', '/api/v1/users?limit=100', undefined, admin)).items.filter((u) => u.username === 'admin').map((u) => u.displayName);
  for (const [hash, ready] of [['#/users', 'main table'], ['#/audit', 'main table'], ['#/api-keys', 'main table'], ['#/settings', 'main form']] as const) {
    await openConsole(adminPage, hash, ready);
    await checkPage(t, adminPage, `console ${hash}`, true, adminName);
  }
  await adminContext.close();

  // The commune's pre-flight test page, before and after its run.
  const communeContext = await browser.newContext({ ...options, locale: undefined });
  const test = await newPage(communeContext, 'preflight', log);
  await test.goto(`${srv.url}/test#token=${endpoint.token}`);
  await test.waitForSelector('#start-test');
  await test.waitForSelector('#microphone-select option', { state: 'attached' });
  // The devices' names are the browser's.
  const devices = (p: Page) => p.$$eval('#camera-select option, #microphone-select option, #speaker-select option', (os) => os.map((o) => o.textContent ?? ''));
  await checkPage(t, test, 'pre-flight test, before the run', false, await devices(test));
  await test.click('#start-test');
  await test.waitForSelector('#speaker-heard', { timeout: 30_000 });
  await test.click('#speaker-heard');
  await test.waitForSelector('.verdict[data-result]', { timeout: 120_000 });
  await checkPage(t, test, 'pre-flight test, with its result', true, await devices(test));

  // The commune's room: before joining, then waiting in the lobby; the chair admits it from the
  // console's live page; then both pages with each other in them.
  const room = await newPage(communeContext, 'room', log);
  room.on('dialog', (d) => void d.accept());
  await room.goto(`${srv.url}/join#token=${endpoint.token}`);
  await room.waitForSelector('#join:not([disabled])', { timeout: 60_000 });
  await checkPage(t, room, 'room, before joining', false, await devices(room));
  await room.click('#join');
  await page.evaluate((h) => (location.hash = h), `#/live/${session.id}`);
  await page.waitForSelector('#live-status.ok', { timeout: 60_000 });
  await page.waitForSelector('#lobby-list [data-action=admit]', { timeout: 60_000 });
  await checkPage(t, page, 'console live page, with a point in the lobby', false);
  await page.click('#lobby-list [data-action=admit]');
  await room.waitForSelector('body[data-room-state=joined]', { timeout: 60_000 });
  await page.waitForSelector('#health-rows tr[data-peer-id][data-has-stats=true]', { timeout: 60_000 });
  await checkPage(t, page, 'console live page, with the point joined', false);
  await checkPage(t, room, 'room, joined', false, await devices(room));

  // Structure review Q8: the health table is updated in place, so the focus stays on Mute.
  const mute = page.locator('#health-rows tr[data-peer-id] [data-action=mute]').first();
  await mute.focus();
  const rowBefore = await page.locator('#health-rows tr[data-peer-id]').first().evaluate((tr) => ((tr as HTMLElement).dataset.marker = 'same-row'));
  t.ok(rowBefore, 'marked the row');
  await page.waitForTimeout(5000); // two stats ticks and more
  t.equal(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.action), 'mute', 'the Mute button keeps the keyboard focus across stats ticks');
  t.equal(await page.locator('#health-rows tr[data-marker=same-row]').count(), 1, 'the row is the same element, updated in place');
  await eventually(async () => (await page.locator('#health-rows tr[data-peer-id] [data-field=bitrate]').first().innerText()).includes('kbit/s'), 30_000, 'the figures to update in the kept row');
  t.pass('its figures are updated in place');
  t.same(log.filter((l) => /pageerror/.test(l)), [], 'no script error on any page');
});
