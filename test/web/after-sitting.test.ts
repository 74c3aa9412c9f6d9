import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import type { Browser, Download, Page } from 'playwright-core';
import { TiepdanServer } from '../../src/server.ts';
import { silentLogger, tempDataDir, testConfig } from '../helpers/env.ts';
import { browserKind, launchBrowser } from '../helpers/browser.ts';
import { ApiClient, newPage, screenshot } from './helpers.ts';

/**
 * After the sitting, in Chromium over HTTPS (issue 11 "done when"): a reception-board officer
 * records a case through the intake form; the session runs (its approval and go-live through the
 * API, as console-e2e walks them in the browser); the officer records the chair's conclusion in
 * the console, issues the Thông báo kết luận and downloads its PDF, finds the case's line in the
 * Sổ tiếp công dân, corrects it and exports it, and closes the follow-up item on the home page.
 * The PDFs are saved and, where poppler's pdftoppm is installed, rendered to PNG to be looked at:
 * test-artifacts/after-sitting/.
 */

const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts/after-sitting');
const LAPTOP = { width: 1366, height: 768 };
t.setTimeout(300_000);

const run = promisify(execFile);
/** Saves a download and renders its first page to PNG (when poppler-utils is there). */
async function keep(download: Download, name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, name);
  await download.saveAs(file);
  if (name.endsWith('.pdf') && existsSync('/usr/bin/pdftoppm')) await run('/usr/bin/pdftoppm', ['-r', '70', '-png', '-f', '1', '-l', '1', file, file.replace(/\.pdf$/, '')]);
  return file;
}

/**
 * The file a button saves. In Chromium, the download itself. Playwright reports no downloads from
 * Firefox ESR (over WebDriver BiDi, not even for a plain link), so there the answer the page
 * fetched for the file is kept instead: the same bytes, short of the browser's save dialog.
 */
async function saved(page: Page, selector: string, url: RegExp, name: string): Promise<string> {
  if (browserKind() === 'chromium') {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
    return keep(download, name);
  }
  const [response] = await Promise.all([page.waitForResponse((r) => url.test(new URL(r.url()).pathname) && r.status() === 200), page.click(selector)]);
  await mkdir(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, name.replace(/(\.\w+)$/, '-firefox$1'));
  await writeFile(file, await response.body());
  return file;
}

async function login(page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(url);
  await page.fill('#login-username', username);
  await page.fill('#login-password', password);
  await page.click('#login button[type=submit]');
}

t.test('a case from intake to its line in the sổ, the conclusion notice PDF and a closed follow-up item', async (t) => {
  const data = await tempDataDir();
  t.teardown(() => data.remove());
  const srv = await TiepdanServer.start(await testConfig(data.dir, { TLS: 'auto', MEDIASOUP_NUM_WORKERS: '1' }), silentLogger());
  t.teardown(() => srv.stop());

  const api = await ApiClient.forServer(srv);
  const admin = await api.login('admin', (await readFile(path.join(data.dir, 'initial-admin-password'), 'utf8')).trim());
  const password = 'Mat-khau-thu-nghiem-2026';
  await api.ok('POST', '/api/v1/users', { username: 'canbo', displayName: 'Cán bộ Ban Tiếp công dân', role: 'reception_board', password }, admin);
  await api.ok('POST', '/api/v1/users', { username: 'chutich', displayName: 'Chủ tịch UBND tỉnh', role: 'approver', password }, admin);
  const central = await api.ok<{ id: string }>('POST', '/api/v1/bridge-points', { code: 'TT', name: 'Trụ sở Tiếp công dân tỉnh', kind: 'central' }, admin);
  const commune = await api.ok<{ id: string }>('POST', '/api/v1/bridge-points', { code: 'X01', name: 'UBND xã Tân Phú', kind: 'commune' }, admin);
  // A sitting today: the admin sets the 5-working-day lead to 0 (an audited setting), so the
  // deadline the chair sets can fall due today and show on the home page.
  const settings = await api.ok<Record<string, unknown>>('GET', '/api/v1/settings', undefined, admin);
  await api.ok('PUT', '/api/v1/settings', { ...settings, approvalLeadWorkingDays: 0 }, admin);

  const browser: Browser = await launchBrowser();
  t.teardown(() => browser.close());
  const log: string[] = [];
  t.teardown(() => {
    if (log.length > 0) t.comment(log.slice(0, 40).join('\n'));
  });
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: LAPTOP, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh', acceptDownloads: true });
  const page = await newPage(context, 'board', log);

  // 1. Intake: the officer records the complaint in the console.
  await login(page, `${srv.url}/console#/cases/new`, 'canbo', password);
  await page.waitForSelector('#case-form');
  await page.fill('#case-title', 'Khiếu nại về bồi thường khi thu hồi đất');
  await page.fill('#case-summary', 'Công dân không đồng ý mức bồi thường.');
  await page.check('#case-criterion-a');
  await page.selectOption('#case-commune', commune.id);
  await page.fill('#case-agencies', 'UBND xã Tân Phú');
  await page.fill('#case-person-0-fullName', 'Nguyễn Văn An');
  await page.fill('#case-person-0-idNumber', '064012345678');
  await page.fill('#case-person-0-address', 'Thôn 3, xã Tân Phú');
  await page.click('#case-save');
  await page.waitForURL(/#\/case\/[0-9a-f-]{36}$/);
  const caseId = page.url().split('#/case/')[1]!;

  // 2. The sitting (two hours from now), approved, invited, live.
  const organiser = await api.login('canbo', password);
  const chairman = await api.login('chutich', password);
  const start = new Date(Date.now() + 2 * 3_600_000);
  const session = await api.ok<{ id: string }>('POST', '/api/v1/sessions', {
    title: 'Tiếp công dân trực tuyến định kỳ',
    scheduledStart: start.toISOString(),
    scheduledEnd: new Date(start.getTime() + 3 * 3_600_000).toISOString(),
    location: 'Trụ sở Tiếp công dân tỉnh',
    chairTitle: 'Chủ tịch UBND tỉnh',
    autoRecord: false,
    caseIds: [caseId],
    bridgePointIds: [central.id, commune.id],
  }, organiser);
  const sessionDate = new Date(start.getTime() + 7 * 3_600_000).toISOString().slice(0, 10);
  await api.ok('POST', `/api/v1/sessions/${session.id}/submit`, {}, organiser);
  // The chairman first sends it back, with his reason (a reason is required), from his own console.
  const chairContext = await browser.newContext({ ignoreHTTPSErrors: true, viewport: LAPTOP, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  const chairPage = await newPage(chairContext, 'chairman', log);
  await login(chairPage, `${srv.url}/console#/session/${session.id}`, 'chutich', password);
  await chairPage.waitForSelector('#action-reject');
  await chairPage.click('#action-reject');
  await chairPage.waitForSelector('#session-action-status.error');
  t.match(await chairPage.locator('#session-action-status').innerText(), /Hãy ghi lý do không phê duyệt/, 'a rejection needs its reason, said in Vietnamese');
  await chairPage.fill('#reject-reason', 'Bổ sung ý kiến của Sở Nông nghiệp và Môi trường');
  await chairPage.click('#action-reject');
  await chairPage.waitForSelector('[data-status=rejected]');
  t.match(await chairPage.locator('main').innerText(), /Bổ sung ý kiến của Sở Nông nghiệp và Môi trường/, 'the reason is on the session');
  await chairContext.close();
  await api.ok('POST', `/api/v1/sessions/${session.id}/reopen`, {}, organiser);
  await api.ok('POST', `/api/v1/sessions/${session.id}/submit`, {}, organiser);
  await api.ok('POST', `/api/v1/sessions/${session.id}/decision`, { decision: 'approved', comment: 'Đồng ý' }, chairman);
  await api.ok('POST', `/api/v1/sessions/${session.id}/invitations`, {}, organiser);
  await api.ok('POST', `/api/v1/sessions/${session.id}/go-live`, { override: { reason: 'Kiểm thử tại chỗ trước giờ tiếp' } }, chairman);

  // 3. The chair's conclusion, recorded from the console (no more `outcomes: []`).
  await page.goto(`${srv.url}/console#/session/${session.id}`);
  const form = `#outcome-${caseId.slice(0, 8)}`;
  await page.waitForSelector(form);
  await page.selectOption(`${form}-outcome`, 'chuyen_don');
  t.ok(await page.locator(`${form}-target`).isVisible(), 'a transfer asks for the competent agency');
  t.ok(await page.locator(`${form}-deadline`).isHidden(), 'and not for a deadline');
  await page.fill(`${form}-conclusion`, 'Giao Sở Nông nghiệp và Môi trường kiểm tra, trả lời công dân.');
  await page.click(`${form}-save`);
  const refusal = page.locator(`${form} .status.error`);
  await refusal.waitFor();
  t.match(await refusal.innerText(), /Cơ quan có thẩm quyền nhận chuyển đơn/, 'the missing field is named in Vietnamese');
  await page.selectOption(`${form}-outcome`, 'hen_tra_loi');
  await page.fill(`${form}-deadline`, sessionDate);
  await page.fill(`${form}-contact`, 'Bà Trần Thị Bình, Phó Trưởng Ban Tiếp công dân tỉnh, 0269 3822 000');
  await page.fill(`${form}-docno`, '15/BTCD-TD');
  await page.click(`${form}-save`);
  await page.waitForSelector(`${form} .status.ok`);
  t.match(await page.locator(`${form} .status.ok`).innerText(), /Đã lưu/);
  await screenshot(page, 'after-01-outcome');

  // 4. After the sitting: the Thông báo kết luận is issued and its PDF downloaded.
  await api.ok('POST', `/api/v1/sessions/${session.id}/end`, {}, chairman);
  await page.reload();
  await page.waitForSelector('#notice-issue');
  await page.fill('#notice-signer-name', 'Phạm Văn Trưởng');
  await page.click('#notice-issue');
  await page.waitForSelector('[data-notice-pdf]');
  t.match(await page.locator('#notice-list').innerText(), /01\/TB-BTCD/, 'numbered');
  t.match(await page.locator('#notice-status').innerText(), /Đã ban hành thông báo số 01\/TB-BTCD/);
  const noticeFile = await saved(page, '[data-notice-pdf]', /\/conclusion-notices\/.*\/print\.pdf$/, 'browser-thong-bao-ket-luan.pdf');
  t.equal((await readFile(noticeFile)).subarray(0, 5).toString(), '%PDF-', 'the notice PDF');
  t.match(await page.locator('#session-follow-ups').innerText(), /Trả lời theo thời hạn người chủ trì đã hẹn/, 'the session lists its follow-up items');
  await screenshot(page, 'after-02-notice');

  // 5. The case's line in the Sổ tiếp công dân: corrected by the board, exported, printed.
  await page.goto(`${srv.url}/console#/register`);
  await page.fill('#register-from', sessionDate);
  await page.fill('#register-to', sessionDate);
  await page.click('#register-show');
  await page.waitForSelector('#register-results tr[data-id]');
  const line = await page.locator('#register-results tr[data-id]').innerText();
  t.match(line, /Nguyễn Văn An – Thôn 3, xã Tân Phú/, 'họ tên – địa chỉ');
  t.match(line, /064012345678/, 'số căn cước');
  t.match(line, /Hẹn trả lời trước ngày .*Bà Trần Thị Bình/, 'hướng xử lý with the deadline and contact');
  t.match(line, /văn bản số 15\/BTCD-TD/, 'and the document number');
  await page.click('[data-edit]');
  await page.fill('[id$=-tracking]', 'Đã chuyển Sở NN&MT, chờ báo cáo');
  await page.click('[id$=-save]');
  await page.waitForSelector('#register-results tr[data-id]:has-text("chờ báo cáo")');
  await screenshot(page, 'after-03-register');
  t.equal((await readFile(await saved(page, '#register-xlsx', /\/register\/export\.xlsx$/, 'browser-so-tiep-cong-dan.xlsx'))).subarray(0, 2).toString(), 'PK', 'an XLSX workbook');
  t.equal((await readFile(await saved(page, '#register-pdf', /\/register\/print\.pdf$/, 'browser-so-tiep-cong-dan.pdf'))).subarray(0, 5).toString(), '%PDF-', 'the sổ PDF');

  // 6. The home page lists the deadline the chair set (due today); the officer closes it with its outcome.
  await page.goto(`${srv.url}/console#/sessions`);
  await page.waitForSelector('#follow-ups-due tr[data-id]');
  const due = page.locator('#follow-ups-due tr[data-id]', { hasText: 'Trả lời theo thời hạn người chủ trì đã hẹn' });
  t.match(await due.innerText(), /Sắp đến hạn/, 'due soon');
  await screenshot(page, 'after-04-home-follow-up');
  await due.locator('input[data-result]').fill('Sở NN&MT đã trả lời công dân bằng văn bản số 20/STNMT ngày hôm nay');
  await due.locator('button[data-close]').click();
  await page.waitForFunction(() => !document.querySelector('#follow-ups-due')?.textContent?.includes('Trả lời theo thời hạn người chủ trì đã hẹn'));
  const done = await api.ok<{ items: { kind: string; status: string; result: string }[] }>('GET', `/api/v1/follow-ups?sessionId=${session.id}&status=done`, undefined, organiser);
  t.match(done.items, [{ kind: 'chair_deadline', status: 'done', result: /20\/STNMT/ }], 'closed with its outcome');

  // 7. The calendar page (item 8): Giỗ Tổ 2027 on Fri 16/4, marked "to be confirmed" until the board confirms it.
  await page.goto(`${srv.url}/console#/calendar`);
  await page.locator('#calendar-year').clear(); // Playwright's fill adds to a number field in Firefox ESR
  await page.fill('#calendar-year', '2027');
  await page.dispatchEvent('#calendar-year', 'change');
  await page.waitForSelector('#calendar-list tr[data-id="2027-04-16"]');
  t.match(await page.locator('#calendar-list tr[data-id="2027-04-16"]').innerText(), /Thứ Sáu, 16\/04\/2027.*Giỗ Tổ Hùng Vương.*Chờ xác nhận/s);
  t.equal(await page.locator('#calendar-list tr[data-id="2027-04-15"]').count(), 0, 'Thu 15/4/2027 is a working day');
  await page.click('[data-edit-day="2027-04-16"]');
  await page.uncheck('#calendar-uncertain');
  await page.click('#calendar-save');
  await page.waitForSelector('#calendar-list tr[data-id="2027-04-16"]:not(:has([data-uncertain]))');
  await screenshot(page, 'after-05-calendar');
  t.same(log.filter((l) => !/Failed to load resource/.test(l)), [], 'no page errors');
});
