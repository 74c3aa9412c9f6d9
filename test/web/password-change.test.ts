import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { TiepdanServer } from '../../src/server.ts';
import { silentLogger, tempDataDir, testConfig } from '../helpers/env.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { ApiClient, newPage, screenshot } from './helpers.ts';

/**
 * Security review M10 in the console: after an administrator resets someone's password, that
 * person's next sign-in asks for a password of their own before anything else, in Chromium.
 */
t.setTimeout(300_000);

t.test('console: a password an administrator set is replaced at the first sign-in', async (t) => {
  const data = await tempDataDir();
  t.teardown(() => data.remove());
  const srv = await TiepdanServer.start(await testConfig(data.dir), silentLogger());
  t.teardown(() => srv.stop());
  const api = await ApiClient.forServer(srv);
  const admin = await api.login('admin', (await readFile(path.join(data.dir, 'initial-admin-password'), 'utf8')).trim());
  const user = await api.ok<{ id: string }>('POST', '/api/v1/users', { username: 'canbo', displayName: 'Cán bộ Ban Tiếp công dân', role: 'reception_board', password: 'mat-khau-cua-can-bo-1' }, admin);
  await api.ok('POST', `/api/v1/users/${user.id}/password`, { password: 'quan-tri-vien-dat-1' }, admin);

  const browser = await launchBrowser();
  t.teardown(() => browser.close());
  const log: string[] = [];
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'vi-VN' });
  const page = await newPage(context, 'reset', log);
  await page.goto(`${srv.url}/console#/sessions`);
  await page.fill('#login-username', 'canbo');
  await page.fill('#login-password', 'quan-tri-vien-dat-1');
  await page.click('#login button[type=submit]');
  await page.waitForSelector('#password-change');
  t.match(await page.locator('#password-change').innerText(), /Quản trị viên đã đặt mật khẩu này cho bạn/, 'the console asks for a password of their own');
  t.equal(await page.locator('#logout').count(), 0, 'and shows nothing else yet');
  await screenshot(page, 'password-change-01');
  await page.fill('#new-password', 'mat-khau-rieng-cua-toi');
  await page.click('#password-change button[type=submit]');
  await page.waitForSelector('#logout');
  t.ok(await page.locator('nav').isVisible(), 'then the console opens');

  t.equal((await api.call('POST', '/api/v1/auth/login', { username: 'canbo', password: 'quan-tri-vien-dat-1' })).status, 401, 'the administrator’s password no longer works');
  const own = await api.call<{ passwordChangeRequired: boolean }>('POST', '/api/v1/auth/login', { username: 'canbo', password: 'mat-khau-rieng-cua-toi' });
  t.equal(own.body.passwordChangeRequired, false, 'their own does, with nothing more to change');
  t.same(log, [], 'no page errors');
});
