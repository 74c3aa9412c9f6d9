import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Browser, Page } from 'playwright-core';
import { TiepdanServer } from '../../src/server.ts';
import { localDate } from '../../src/domain/common/clock.ts';
import { silentLogger, tempDataDir, testConfig } from '../helpers/env.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { writeFakeRecording } from '../recording/fakeRecording.ts';
import { mountTmpfs } from '../recording/helpers.ts';
import { ApiClient, newPage, screenshot } from './helpers.ts';

/**
 * The console pages for what only the API did before (issue 11 item 11), walked in Chromium: a
 * reception-board officer exports a recording to a drive (a tmpfs mounted under
 * EXPORT_DESTINATIONS, named as a USB stick is) and to a CD image, and sees the progress reach
 * done; extends its retention and is refused a shorter date in Vietnamese; sets a legal hold; edits
 * a case. The administrator creates an API key (which then works), revokes it (which then does
 * not), changes a setting, edits a bridge point and a user. Each change is checked through the API.
 */

const DAY = 86_400_000;
t.setTimeout(300_000);

async function login(page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(url);
  await page.fill('#login-username', username);
  await page.fill('#login-password', password);
  await page.click('#login button[type=submit]');
}

t.test('console pages: exports, retention and hold, API keys, settings, editing points, users and cases', async (t) => {
  const data = await tempDataDir();
  t.teardown(() => data.remove());
  const exportRoot = await mkdtemp(path.join(tmpdir(), 'tiepdan-console-export-'));
  const usb = path.join(exportRoot, 'USB DISK');
  const unmount = await mountTmpfs(usb, '32m');
  t.teardown(async () => {
    await unmount();
    await rm(exportRoot, { recursive: true, force: true });
  });
  const srv = await TiepdanServer.start(await testConfig(data.dir, { TLS: 'auto', MEDIASOUP_NUM_WORKERS: '1', EXPORT_DESTINATIONS: exportRoot }), silentLogger());
  t.teardown(() => srv.stop());

  const api = await ApiClient.forServer(srv);
  const admin = await api.login('admin', (await readFile(path.join(data.dir, 'initial-admin-password'), 'utf8')).trim());
  const password = 'Mat-khau-thu-nghiem-2026';
  const officerUser = await api.ok<{ id: string }>('POST', '/api/v1/users', { username: 'canbo', displayName: 'Cán bộ Ban Tiếp công dân', role: 'reception_board', password }, admin);
  const commune = await api.ok<{ id: string }>('POST', '/api/v1/bridge-points', { code: 'X01', name: 'UBND xã Tân Phú', kind: 'commune', contactPhone: '0269 000 001' }, admin);
  const officer = await api.login('canbo', password);
  const kase = await api.ok<{ id: string }>('POST', '/api/v1/cases', { type: 'kien_nghi', title: 'Kiến nghị về đường giao thông thôn 3', criteria: ['a'], communeBridgePointId: commune.id }, officer);
  const sessionId = randomUUID();
  await writeFakeRecording(srv.recordings.recordingsDir, sessionId, { segments: 3 });

  const browser: Browser = await launchBrowser();
  t.teardown(() => browser.close());
  const log: string[] = [];
  t.teardown(() => {
    if (log.length > 0) t.comment(log.slice(0, 40).join('\n'));
  });
  const board = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1366, height: 900 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  const page = await newPage(board, 'board', log);

  // 1. Export to the drive, then to a CD image: the progress reaches done.
  await login(page, `${srv.url}/console#/recordings`, 'canbo', password);
  await page.waitForSelector(`tr[data-id="${sessionId}"]`);
  // The options' own texts (a select's innerText is empty in Firefox).
  t.match((await page.locator('#export-target option').allTextContents()).join('\n'), /USB DISK/, 'the mounted drive is offered');
  t.equal(await page.locator('nav a[href="#/api-keys"], nav a[href="#/settings"]').count(), 0, 'no API-key or settings link for the board (administrator only)');
  await page.fill('#export-passphrase', 'mat-khau-xuat-2026');
  for (const kind of ['directory', 'cd'] as const) {
    await page.selectOption('#export-kind', kind);
    await page.click(`[data-export="${sessionId}"]`);
    await page.waitForSelector('#job-progress[data-job=done]', { timeout: 120_000 });
    t.equal(await page.getAttribute('#job-progress', 'aria-valuenow'), '100', `${kind}: the progress bar reaches 100 %`);
    t.match(await page.locator('#recordings-status').innerText(), /Đã xuất xong .*USB DISK/, `${kind}: done, said in Vietnamese`);
    if (kind === 'directory') await screenshot(page, 'admin-01-export-done');
  }
  const written = await readdir(usb, { recursive: true });
  t.ok(written.some((f) => String(f).endsWith('.iso')), 'a CD image is on the drive', { written });
  t.ok(written.length > 1, 'and the folder export');

  // 2. Retention: extended, then a shorter date refused; 3. a legal hold with its reason.
  const later = localDate(new Date(Date.now() + 60 * DAY));
  const sooner = localDate(new Date(Date.now() + 30 * DAY));
  await page.fill('#gov-until', later);
  await page.click('#gov-extend');
  await page.waitForSelector(`[data-retention="${sessionId}"]:has-text("${later}")`);
  t.match(await page.locator('#gov-status').innerText(), new RegExp(`Đã gia hạn lưu trữ đến ${later}`));
  await page.fill('#gov-until', sooner);
  await page.click('#gov-extend');
  await page.waitForSelector('#gov-status.error');
  t.equal(await page.getAttribute('#gov-status', 'data-code'), 'RETENTION_SHORTENED');
  t.match(await page.locator('#gov-status').innerText(), /Không rút ngắn được thời hạn lưu trữ/, 'a shorter date is refused in Vietnamese');
  t.equal(await page.locator(`[data-retention="${sessionId}"]`).innerText(), later, 'and the date in force stays');
  await page.fill('#gov-reason', 'Vụ việc đang được Thanh tra tỉnh xem xét');
  await page.click('#gov-hold');
  await page.waitForSelector(`[data-hold="${sessionId}"][data-held=true]`);
  await screenshot(page, 'admin-02-retention-hold');
  const governed = await api.ok<{ retentionUntil: string; legalHold: boolean; legalHoldReason: string }>('GET', `/api/v1/recordings/${sessionId}`, undefined, officer);
  t.match(governed, { retentionUntil: later, legalHold: true, legalHoldReason: 'Vụ việc đang được Thanh tra tỉnh xem xét' }, 'the API has the date and the hold');

  // 4. Editing a case.
  await page.goto(`${srv.url}/console#/case/${kase.id}`);
  await page.waitForSelector('#case-edit');
  await page.fill('#case-edit-title', 'Kiến nghị về sửa chữa đường giao thông thôn 3');
  await page.click('#case-edit-save');
  await page.waitForSelector('#case-saved');
  t.match(await page.locator('#case-detail').innerText(), /sửa chữa đường giao thông/, 'the case shows its new title');
  t.equal((await api.ok<{ title: string }>('GET', `/api/v1/cases/${kase.id}`, undefined, officer)).title, 'Kiến nghị về sửa chữa đường giao thông thôn 3');
  await board.close();

  // 5. The administrator: an API key created, used, revoked.
  const adminContext = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1366, height: 900 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  const adminPage = await newPage(adminContext, 'admin', log);
  adminPage.on('dialog', (d) => void d.accept());
  await login(adminPage, `${srv.url}/console#/api-keys`, 'admin', (await readFile(path.join(data.dir, 'initial-admin-password'), 'utf8')).trim());
  await adminPage.waitForSelector('#api-key-form');
  t.equal(await adminPage.locator('nav a[href="#/api-keys"], nav a[href="#/settings"]').count(), 2, 'the administrator has both links');
  await adminPage.fill('#api-key-name', 'Hệ thống quản lý văn bản');
  await adminPage.selectOption('#api-key-role', 'auditor');
  await adminPage.click('#api-key-form button[type=submit]');
  await adminPage.waitForSelector('#api-key-new');
  const key = (await adminPage.locator('#api-key-new').innerText()).trim();
  // Asked from the page (it trusts the server's certificate; Node's fetch does not).
  const keyStatus = () => adminPage.evaluate(async (k) => (await fetch('/api/v1/audit?limit=1', { headers: { 'x-api-key': k } })).status, key);
  t.equal(await keyStatus(), 200, 'the new key opens the API');
  const keyRow = adminPage.locator('tr', { hasText: 'Hệ thống quản lý văn bản' });
  await keyRow.locator('[data-revoke]').click();
  await adminPage.waitForSelector('tr:has-text("Hệ thống quản lý văn bản") [data-state=revoked]');
  t.match(await adminPage.locator('#api-keys-status').innerText(), /Đã thu hồi khóa/);
  t.equal(await keyStatus(), 401, 'the revoked key opens nothing');
  await screenshot(adminPage, 'admin-03-api-keys');

  // 6. A setting.
  await adminPage.goto(`${srv.url}/console#/settings`);
  await adminPage.waitForSelector('#setting-approvalLeadWorkingDays');
  t.match(await adminPage.locator('label[for=setting-approvalLeadWorkingDays]').innerText(), /Trình Chủ tịch UBND tỉnh/, 'labelled in Vietnamese');
  // Cleared first: Playwright's fill in Firefox ESR adds to a number field instead of replacing it.
  await adminPage.locator('#setting-approvalLeadWorkingDays').clear();
  await adminPage.fill('#setting-approvalLeadWorkingDays', '7');
  await adminPage.fill('#setting-organisation-signerName', 'Nguyễn Văn Trưởng');
  await adminPage.click('#settings-save');
  await adminPage.waitForSelector('#settings-status.ok');
  await screenshot(adminPage, 'admin-04-settings');
  const settings = await api.ok<{ approvalLeadWorkingDays: number; organisation: { signerName: string; issuerName: string } }>('GET', '/api/v1/settings', undefined, admin);
  t.match(settings, { approvalLeadWorkingDays: 7, organisation: { signerName: 'Nguyễn Văn Trưởng', issuerName: 'Ban Tiếp công dân tỉnh' } }, 'saved, the other fields unchanged');

  // 7. Editing a bridge point and a user.
  await adminPage.goto(`${srv.url}/console#/bridge-points`);
  await adminPage.click(`[data-edit="${commune.id}"]`);
  await adminPage.fill('#edit-bridge-points-contactPhone', '0269 3822 111');
  await adminPage.click('#edit-bridge-points-save');
  await adminPage.waitForSelector('#edit-bridge-points-saved');
  t.match(await adminPage.locator(`tr[data-id="${commune.id}"]`).innerText(), /0269 3822 111/, 'the point shows its new phone');
  t.equal((await api.ok<{ contactPhone: string; name: string }>('GET', `/api/v1/bridge-points/${commune.id}`, undefined, admin)).contactPhone, '0269 3822 111');
  await adminPage.goto(`${srv.url}/console#/users`);
  await adminPage.click(`[data-edit="${officerUser.id}"]`);
  await adminPage.fill('#edit-users-displayName', 'Trần Thị Cán Bộ');
  await adminPage.click('#edit-users-save');
  await adminPage.waitForSelector('#edit-users-saved');
  t.match(await adminPage.locator(`tr[data-id="${officerUser.id}"]`).innerText(), /Trần Thị Cán Bộ/);
  t.match(await api.ok('GET', `/api/v1/users/${officerUser.id}`, undefined, admin), { displayName: 'Trần Thị Cán Bộ', role: 'reception_board', active: true }, 'only the name changed');
  await screenshot(adminPage, 'admin-05-users');
  t.same(log.filter((l) => l.includes('pageerror')), [], 'no page errors');
});
