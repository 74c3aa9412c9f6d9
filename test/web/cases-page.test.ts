import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import type { Browser, Page } from 'playwright-core';
import { TiepdanServer } from '../../src/server.ts';
import { silentLogger, tempDataDir, testConfig } from '../helpers/env.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { ApiClient, newPage, screenshot } from './helpers.ts';

/**
 * The console's cases pages (vụ việc) in Chromium over HTTPS: a reception-board officer records a
 * case through the form (criteria ticked, one complainant), finds it in the list and its detail; the
 * server's refusals (a blank title, a reference already taken, a session whose case has no
 * criterion) come back in plain words; an auditor sees the same case without the personal data.
 * Screenshots: test-artifacts/web/cases-*.png.
 */

const LAPTOP = { width: 1366, height: 768 };
t.setTimeout(300_000);

async function login(page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(url);
  await page.fill('#login-username', username);
  await page.fill('#login-password', password);
  await page.click('#login button[type=submit]');
}

t.test('cases: record, list, detail, plain refusals, confidentiality', async (t) => {
  const data = await tempDataDir();
  t.teardown(() => data.remove());
  const srv = await TiepdanServer.start(await testConfig(data.dir, { TLS: 'auto' }), silentLogger());
  t.teardown(() => srv.stop());

  const api = await ApiClient.forServer(srv);
  const admin = await api.login('admin', (await readFile(path.join(data.dir, 'initial-admin-password'), 'utf8')).trim());
  const password = 'Mat-khau-thu-nghiem-2026';
  await api.ok('POST', '/api/v1/users', { username: 'canbo', displayName: 'Cán bộ Ban Tiếp công dân', role: 'reception_board', password }, admin);
  await api.ok('POST', '/api/v1/users', { username: 'kiemtra', displayName: 'Cán bộ kiểm tra', role: 'auditor', password }, admin);
  const central = await api.ok<{ id: string }>('POST', '/api/v1/bridge-points', { code: 'TT', name: 'Trụ sở Tiếp công dân tỉnh', kind: 'central' }, admin);
  const commune = await api.ok<{ id: string }>('POST', '/api/v1/bridge-points', { code: 'X01', name: 'UBND xã Tân Phú', kind: 'commune' }, admin);

  const browser: Browser = await launchBrowser();
  t.teardown(() => browser.close());
  const log: string[] = [];
  t.teardown(() => {
    if (log.length > 0) t.comment(log.slice(0, 40).join('\n'));
  });
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: LAPTOP, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  const page = await newPage(context, 'board', log);

  // 1. The officer records a complaint with criteria a and c and one complainant.
  await login(page, `${srv.url}/console#/cases`, 'canbo', password);
  await page.waitForSelector('#cases-new');
  t.match(await page.locator('#cases-count').innerText(), /Tổng số: 0 vụ việc/, 'the list starts empty');
  await page.click('#cases-new');
  await page.waitForSelector('#case-form');
  await screenshot(page, 'cases-01-form');
  t.match(await page.locator('#case-criteria-missing').innerText(), /Chưa chọn tiêu chí/, 'the form warns while no criterion is ticked');
  t.match(await page.locator('label[for=case-criterion-b]').innerText(), /quyết định giải quyết khiếu nại đã có hiệu lực pháp luật/, 'each criterion carries the regulation’s wording');
  t.ok(await page.locator('#case-waiver-box').isHidden(), 'the identity waiver is only for tố cáo');
  await page.selectOption('#case-type', 'to_cao');
  t.ok(await page.locator('#case-waiver-box').isVisible(), 'a tố cáo shows the identity-protection waiver');
  t.equal(await page.locator('#case-person-0-role').inputValue(), 'denouncer', 'and the first person becomes the denouncer');
  await page.selectOption('#case-type', 'khieu_nai');
  t.equal(await page.locator('#case-person-0-role').inputValue(), 'complainant', 'for a khiếu nại the complainant');

  // Every visible input, select and textarea of the form has a label.
  const unlabelled = await page.$$eval('#case-form input, #case-form select, #case-form textarea', (els) =>
    els.filter((el) => !(el.id && document.querySelector(`label[for="${el.id}"]`))).map((el) => el.outerHTML),
  );
  t.same(unlabelled, [], 'every control of the form is labelled');

  await page.fill('#case-title', 'Khiếu nại về bồi thường khi thu hồi đất');
  await page.fill('#case-summary', 'Công dân không đồng ý mức bồi thường.');
  await page.check('#case-criterion-a');
  await page.check('#case-criterion-c');
  t.equal(await page.locator('#case-criteria-missing').innerText(), '', 'the warning goes once a criterion is ticked');
  await page.selectOption('#case-commune', commune.id);
  await page.fill('#case-agencies', 'Sở Nông nghiệp và Môi trường\nUBND xã Tân Phú');
  await page.fill('#case-prior', 'Đã có quyết định giải quyết lần hai.');
  await page.fill('#case-person-0-fullName', 'Nguyễn Văn An');
  await page.fill('#case-person-0-idNumber', '064012345678');
  await page.fill('#case-person-0-address', 'Thôn 3, xã Tân Phú');
  await page.fill('#case-person-0-phone', '0905123456');
  await screenshot(page, 'cases-01b-form-filled');
  await page.click('#case-save');
  await page.waitForURL(/#\/case\/[0-9a-f-]{36}$/);
  const caseId = page.url().split('#/case/')[1]!;
  await page.waitForSelector('#case-detail');
  const detail = await page.locator('#case-detail').innerText();
  t.match(detail, /Nguyễn Văn An/, 'the detail shows the complainant');
  t.match(detail, /064012345678/, 'with the ID number');
  t.match(detail, /Người khiếu nại/, 'in the capacity of complainant');
  t.match(detail, /X01 – UBND xã Tân Phú/, 'and the commune by name');
  t.equal(await page.locator('[data-criterion]').count(), 2, 'both criteria are listed with their wording');
  t.equal(await page.locator('#case-hidden-notice').count(), 0, 'nothing is withheld from the reception board');
  const reference = (await api.ok<{ reference: string }>('GET', `/api/v1/cases/${caseId}`, undefined, await api.login('canbo', password))).reference;
  await screenshot(page, 'cases-02-detail');

  // 2. It is in the list; the type filter narrows the list.
  await page.click('#case-back');
  await page.waitForSelector(`tr[data-id="${caseId}"]`);
  const row = await page.locator(`tr[data-id="${caseId}"]`).innerText();
  t.match(row, new RegExp(reference), 'the list shows the case by its reference');
  t.match(row, /Khiếu nại/, 'its type');
  t.match(row, /a, c/, 'its criteria');
  t.match(row, /X01 – UBND xã Tân Phú/, 'its commune');
  t.match(row, /Chưa đưa vào buổi tiếp/, 'and that it is on no session yet');
  await page.selectOption('#cases-filter-type', 'to_cao');
  await page.waitForSelector('#cases-count:has-text("Tổng số: 0")');
  t.equal(await page.locator(`tr[data-id="${caseId}"]`).count(), 0, 'filtering on tố cáo hides the complaint');
  await page.selectOption('#cases-filter-type', 'khieu_nai');
  await page.waitForSelector(`tr[data-id="${caseId}"]`);
  t.pass('filtering on khiếu nại shows it again');
  await screenshot(page, 'cases-03-list');

  // 3. Refusals in plain words: a blank title (400), a reference already taken (409).
  await page.click('#cases-new');
  await page.waitForSelector('#case-form');
  await page.fill('#case-title', '   '); // passes the browser's "required", the server trims it
  await page.fill('#case-person-0-fullName', 'Trần Thị Bình');
  await page.click('#case-save');
  const status = page.locator('#case-form-status');
  await page.waitForSelector('#case-form-status.error');
  t.match(await status.innerText(), /thông tin chưa hợp lệ: Tiêu đề \(ngắn, không nêu tên người\): chưa nhập hoặc quá nhỏ/, 'a blank title is named by its label, in plain words');
  t.notMatch(await status.innerText(), /VALIDATION_FAILED|Too small/, 'no code or English technical message');
  t.equal(await page.locator('#case-title').getAttribute('aria-invalid'), 'true', 'the title is marked invalid');
  t.equal(await page.evaluate(() => document.activeElement?.id), 'case-title', 'and has the keyboard focus');
  await page.fill('#case-title', 'Kiến nghị về đường giao thông');
  await page.fill('#case-reference', reference);
  await page.click('#case-save');
  await page.waitForSelector('#case-form-status[data-code=CASE_REFERENCE_TAKEN]');
  t.match(await status.innerText(), /Số hồ sơ này đã có ở một vụ việc khác/, 'a taken reference is refused in plain words');

  // 4. A case with no criterion is saved, but the server refuses to submit a session with it.
  await page.fill('#case-reference', '');
  await page.click('#case-save');
  await page.waitForURL(/#\/case\/[0-9a-f-]{36}$/);
  const bareId = page.url().split('#/case/')[1]!;
  await page.waitForSelector('#case-detail');
  t.match(await page.locator('#case-detail').innerText(), /Chưa có tiêu chí/, 'the detail says the case has no criterion');
  const bare = await api.ok<{ reference: string }>('GET', `/api/v1/cases/${bareId}`, undefined, await api.login('canbo', password));
  const start = new Date(Date.now() + 30 * 86_400_000);
  start.setHours(8, 0, 0, 0);
  const draft = await api.ok<{ id: string }>(
    'POST',
    '/api/v1/sessions',
    { title: 'Phiên có vụ việc thiếu tiêu chí', scheduledStart: start.toISOString(), scheduledEnd: new Date(start.getTime() + 7_200_000).toISOString(), chairTitle: 'Phó Chủ tịch UBND tỉnh', bridgePointIds: [central.id, commune.id], caseIds: [bareId] },
    await api.login('canbo', password),
  );
  await page.goto(`${srv.url}/console#/session/${draft.id}`);
  await page.click('#action-submit');
  await page.waitForSelector('#session-action-status[data-code=CASE_CRITERIA_REQUIRED]');
  const refusal = await page.locator('#session-action-status').innerText();
  t.match(refusal, new RegExp(`Chưa trình được: vụ việc ${bare.reference} chưa có tiêu chí lựa chọn nào theo Quy chế Điều 4`), 'submitting shows the server’s refusal in plain words, naming the case');
  t.notMatch(refusal, /CASE_CRITERIA_REQUIRED|every case needs/, 'not the code or the English message');
  await screenshot(page, 'cases-04-refusal');

  // 5. Paging: 20 more cases (through the API) make two pages of 20.
  const board = await api.login('canbo', password);
  for (let i = 1; i <= 20; i++) await api.ok('POST', '/api/v1/cases', { type: 'phan_anh', title: `Phản ánh số ${i}`, criteria: ['d'] }, board);
  await page.goto(`${srv.url}/console#/cases`);
  await page.waitForSelector('#cases-count:has-text("Tổng số: 22 vụ việc")');
  t.equal(await page.locator('#cases-list tbody tr').count(), 20, 'the first page holds 20 cases');
  t.ok(await page.locator('#cases-prev').isDisabled(), 'no previous page on the first');
  await page.focus('#cases-next');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#cases-page:has-text("Trang 2/2")');
  t.equal(await page.locator('#cases-list tbody tr').count(), 2, 'the next page (reached by keyboard) holds the other 2');
  t.ok(await page.locator('#cases-next').isDisabled(), 'and is the last');

  // 6. An auditor (read-only) sees the case, the personal data withheld; no form for them.
  const auditorContext = await browser.newContext({ ignoreHTTPSErrors: true, viewport: LAPTOP, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  t.teardown(() => auditorContext.close());
  const auditor = await newPage(auditorContext, 'auditor', log);
  await login(auditor, `${srv.url}/console#/cases`, 'kiemtra', password);
  await auditor.waitForSelector('#cases-count:has-text("Tổng số: 22 vụ việc")');
  await auditor.selectOption('#cases-filter-type', 'khieu_nai'); // newest first: the complaint is on page 2 otherwise
  await auditor.waitForSelector(`tr[data-id="${caseId}"]`);
  t.equal(await auditor.locator('#cases-new').count(), 0, 'the auditor is offered no "new case" button');
  await auditor.click(`a[data-case-link="${reference}"]`);
  await auditor.waitForSelector('#case-detail');
  const seen = await auditor.locator('main').innerText();
  t.match(seen, /Khiếu nại về bồi thường khi thu hồi đất/, 'the auditor sees the case title');
  t.match(seen, /Người khiếu nại/, 'and that there is a complainant');
  t.notMatch(seen, /Nguyễn Văn An|064012345678|0905123456|Thôn 3|không đồng ý mức bồi thường/, 'but not the personal data or the summary');
  t.ok(await auditor.locator('#case-hidden-notice').isVisible(), 'a notice says why');
  t.ok((await auditor.locator('.withheld').count()) >= 5, 'each withheld field reads "ẩn theo quy định"');
  t.match(seen, /ẩn theo quy định/);
  await screenshot(auditor, 'cases-05-auditor');

  // The English switch covers the page.
  await auditor.click('.lang-switch');
  t.match(await auditor.locator('main').innerText(), /withheld by regulation/, 'in English too');

  t.same(log.filter((l) => !/status of 4\d\d/.test(l)), [], 'no page errors');
});
