import { createServer, type AddressInfo } from 'node:net';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import path from 'node:path';
import { promisify } from 'node:util';
import jsqr from 'jsqr';
import { PNG } from 'pngjs';
import t from 'tap';
import type { Browser } from 'playwright-core';
import { TiepdanServer } from '../../src/server.ts';
import { silentLogger, tempDataDir, testConfig } from '../helpers/env.ts';
import { launchChromium } from '../helpers/browser.ts';
import { ApiClient, newPage, screenshot } from './helpers.ts';

/**
 * The printed giấy mời (issue 11 item 10), as a commune would use it: the server prints the PDF;
 * its first page is rendered to PNG (poppler's pdftoppm) and its QR code read back with a JS
 * decoder; Chromium follows the QR code's URL to the room and joins the lobby. The text is the
 * administrative document's (number, issuing body in its own case, Kính gửi, thành phần, the cases
 * by reference only, Nơi nhận, signer) and carries the short code, not the 300-character token. A
 * wrong code is refused in Vietnamese, a revoked invitation's code too, and 30 wrong guesses from
 * one address are rate limited. The PDF and its PNG stay in test-artifacts/invitation/ for review.
 */

const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts/invitation');
const run = promisify(execFile);
// jsqr is CommonJS: its function arrives as the default import, which its types call `.default`.
const jsQR = (jsqr as unknown as { default?: typeof jsqr.default }).default ?? (jsqr as unknown as typeof jsqr.default);
t.setTimeout(300_000);

/** A binary GET over the server's HTTPS, trusting only its generated CA. */
function download(url: string, ca: string, token: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A form post to /m (what the code box sends), without following the redirect. */
function postCode(base: string, ca: string, code: string): Promise<{ status: number; location: string | undefined; errorCode: string | undefined; text: string }> {
  const payload = Buffer.from(new URLSearchParams({ code, dest: 'join' }).toString());
  return new Promise((resolve, reject) => {
    const req = httpsRequest(new URL('/m', base), { method: 'POST', ca, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(payload.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, location: res.headers.location, errorCode: res.headers['x-error-code'] as string | undefined, text: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end(payload);
  });
}

t.test('the giấy mời PDF: its QR code leads to a joined lobby; its typed code is guarded', { skip: existsSync('/usr/bin/pdftoppm') ? false : 'poppler-utils (pdftoppm) is not installed' }, async (t) => {
  const data = await tempDataDir();
  t.teardown(() => data.remove());
  // The printed links and the QR use the configured origin (L8), so the test gives it this server's.
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = probe.address() as AddressInfo;
      probe.close(() => resolve(p));
    });
  });
  const srv = await TiepdanServer.start(await testConfig(data.dir, { TLS: 'auto', MEDIASOUP_NUM_WORKERS: '1', PORT: String(port), PUBLIC_URL: `https://127.0.0.1:${port}` }), silentLogger());
  t.teardown(() => srv.stop());
  const ca = await readFile(path.join(data.dir, 'tls', 'ca.crt'), 'utf8');

  const api = await ApiClient.forServer(srv);
  const admin = await api.login('admin', (await readFile(path.join(data.dir, 'initial-admin-password'), 'utf8')).trim());
  const password = 'Mat-khau-thu-nghiem-2026';
  await api.ok('POST', '/api/v1/users', { username: 'canbo', displayName: 'Cán bộ Ban Tiếp công dân', role: 'reception_board', password }, admin);
  await api.ok('POST', '/api/v1/users', { username: 'chutich', displayName: 'Chủ tịch UBND tỉnh', role: 'approver', password }, admin);
  const settings = await api.ok<{ organisation: Record<string, string> }>('GET', '/api/v1/settings', undefined, admin);
  await api.ok('PUT', '/api/v1/settings', { ...settings, approvalLeadWorkingDays: 0, organisation: { ...settings.organisation, signerName: 'Nguyễn Văn Trưởng' } }, admin);
  const central = await api.ok<{ id: string }>('POST', '/api/v1/bridge-points', { code: 'TT', name: 'Trụ sở Tiếp công dân tỉnh', kind: 'central' }, admin);
  const commune = await api.ok<{ id: string }>('POST', '/api/v1/bridge-points', { code: 'X01', name: 'UBND xã Tân Phú', kind: 'commune' }, admin);
  const organiser = await api.login('canbo', password);
  const chairman = await api.login('chutich', password);
  const kase = await api.ok<{ id: string; reference: string }>('POST', '/api/v1/cases', {
    type: 'khieu_nai',
    title: 'Khiếu nại về bồi thường đất đai',
    summary: 'Công dân khiếu nại mức bồi thường khi thu hồi đất.',
    criteria: ['a'],
    communeBridgePointId: commune.id,
    people: [{ role: 'complainant', fullName: 'Lê Thị Khiếu Nại', idNumber: '064099887766', address: 'Thôn 5, xã Tân Phú' }],
  }, organiser);
  const start = new Date(Date.now() + 2 * 3_600_000);
  const session = await api.ok<{ id: string }>('POST', '/api/v1/sessions', {
    title: 'Tiếp công dân trực tuyến định kỳ',
    scheduledStart: start.toISOString(),
    scheduledEnd: new Date(start.getTime() + 3 * 3_600_000).toISOString(),
    location: 'Trụ sở Tiếp công dân tỉnh',
    chairTitle: 'Chủ tịch UBND tỉnh',
    autoRecord: false,
    caseIds: [kase.id],
    bridgePointIds: [central.id, commune.id],
  }, organiser);
  await api.ok('POST', `/api/v1/sessions/${session.id}/submit`, {}, organiser);
  await api.ok('POST', `/api/v1/sessions/${session.id}/decision`, { decision: 'approved', comment: 'Đồng ý' }, chairman);
  const sent = await api.ok<{ invitations: { id: string; bridgePointId: string | null; token: string }[] }>('POST', `/api/v1/sessions/${session.id}/invitations`, {}, organiser);
  await api.ok('POST', `/api/v1/sessions/${session.id}/go-live`, { override: { reason: 'Kiểm thử tại chỗ trước giờ tiếp' } }, chairman);
  const mine = sent.invitations.find((i) => i.bridgePointId === commune.id)!;
  const theirs = sent.invitations.find((i) => i.bridgePointId === central.id)!;

  // 1. The PDF, its text and its picture.
  const pdf = await download(`${srv.url}/api/v1/invitations/${mine.id}/print.pdf`, ca, organiser);
  t.equal(pdf.status, 200);
  t.equal(pdf.body.subarray(0, 5).toString(), '%PDF-', 'a PDF');
  await rm(ARTIFACTS, { recursive: true, force: true });
  await mkdir(ARTIFACTS, { recursive: true });
  const pdfFile = path.join(ARTIFACTS, 'giay-moi.pdf');
  await writeFile(pdfFile, pdf.body);
  const { stdout: text } = await run('/usr/bin/pdftotext', ['-layout', pdfFile, '-']);
  t.match(text, /Số: ……\/GM-BTCD/, 'numbered as an administrative document (the văn thư fills the number)');
  t.match(text, /Ban Tiếp công dân tỉnh trân trọng kính mời/, 'the issuing body in its own case inside the sentence');
  t.match(text, /Kính gửi: UBND xã Tân Phú/, 'addressed to the point');
  t.match(text, /thứ [A-ZĐ][a-zàáảãạăâđêôơưấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ]+, ngày/, 'the weekday is written out');
  t.match(text, /Thành phần/, 'thành phần');
  t.match(text, new RegExp(kase.reference.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')), 'the case by its reference');
  t.match(text, /Khiếu nại/, 'and its type');
  t.notMatch(text, /Lê Thị Khiếu Nại|064099887766|Thôn 5/, 'no complainant’s name, number or address');
  t.match(text, /Nơi nhận:/, 'nơi nhận');
  t.match(text, /TRƯỞNG BAN/, 'the signer’s title');
  t.match(text, /Nguyễn Văn Trưởng/, 'and name (a setting)');
  t.notMatch(text, /td1\./, 'the long token is not printed');
  const typed = /([A-HJ-NP-Z2-9]{5}-[A-HJ-NP-Z2-9]{5})/.exec(text)?.[1];
  t.ok(typed, 'the short code is printed in two groups of five');

  // Every page to PNG (the login box may fall on the second); the QR code is read from the pictures.
  await run('/usr/bin/pdftoppm', ['-r', '150', '-png', pdfFile, path.join(ARTIFACTS, 'giay-moi')]);
  let qr: ReturnType<typeof jsQR> = null;
  for (const name of (await readdir(ARTIFACTS)).filter((f) => /^giay-moi-\d+\.png$/.test(f)).sort()) {
    const png = PNG.sync.read(await readFile(path.join(ARTIFACTS, name)));
    qr ??= jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height);
  }
  t.ok(qr, 'the QR code on the rendered page decodes');
  const qrUrl = qr!.data;
  t.equal(qrUrl, `${srv.url}/m/${typed!.replace('-', '')}`, 'it encodes the short-code URL of this server, which carries no token');

  // 2. Chromium follows the QR code's URL to the room and joins the lobby.
  const browser: Browser = await launchChromium();
  t.teardown(() => browser.close());
  const log: string[] = [];
  t.teardown(() => {
    if (log.length > 0) t.comment(log.slice(0, 40).join('\n'));
  });
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1366, height: 768 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  const page = await newPage(context, 'commune', log);
  await page.goto(qrUrl);
  // The redirect carries the token in the fragment; the page reads it and drops it from the address bar (L8).
  await page.waitForURL((u) => u.pathname === '/join');
  t.equal(new URL(page.url()).pathname, '/join', 'the code was exchanged for the invitation');
  await page.waitForSelector('#join:not([disabled])', { timeout: 30_000 });
  await page.click('#join');
  await page.waitForSelector('body[data-room-state=lobby]', { timeout: 30_000 });
  await screenshot(page, 'invitation-qr-lobby');
  t.pass('joined the lobby from the QR code');
  const audit = await api.ok<{ items: { action: string; entityId: string; actor: { kind: string } }[] }>('GET', `/api/v1/audit?action=invitation.join_code.redeem&limit=10`, undefined, admin);
  t.ok(audit.items.some((a) => a.entityId === mine.id), 'the exchange is audited');

  // 3. The code box: a typed code (lower case, with its dash) leads to the room as well.
  await page.goto(`${srv.url}/m`);
  t.match(await page.locator('h1').innerText(), /Vào buổi tiếp công dân trực tuyến/);
  await page.fill('#join-code-input', typed!.toLowerCase());
  await page.click('#join-code-join');
  await page.waitForURL((u) => u.pathname === '/join');
  t.pass('the typed code opens the invitation');

  // 4. A revoked invitation's code is refused.
  const theirsHtml = await download(`${srv.url}/api/v1/invitations/${theirs.id}/print`, ca, organiser);
  const theirCode = /id="join-code">([A-Z0-9-]+)</.exec(theirsHtml.body.toString('utf8'))![1]!;
  await api.ok('POST', `/api/v1/invitations/${theirs.id}/revoke`, { reason: 'Thử thu hồi' }, organiser);
  await page.goto(`${srv.url}/m/${theirCode.replace('-', '')}`);
  t.match(await page.locator('#join-code-error').innerText(), /đã bị thu hồi/, 'a revoked invitation’s code is refused, in Vietnamese');

  // 5. A wrong code, then guessing: refused in Vietnamese, then rate limited.
  await page.goto(`${srv.url}/m`);
  await page.fill('#join-code-input', 'ABCDE-FGHJK');
  await page.click('#join-code-join');
  await page.waitForSelector('#join-code-error');
  t.match(await page.locator('#join-code-error').innerText(), /Mã không đúng/, 'a wrong code is refused in Vietnamese');
  await screenshot(page, 'invitation-code-wrong');
  const answers: number[] = [];
  for (let i = 0; i < 29; i++) answers.push((await postCode(srv.url, ca, `ZZZZZ${String(22222 + i).replace(/[01]/g, '9')}`)).status);
  t.same(answers.slice(0, 19), Array(19).fill(404), 'the first 20 wrong codes (one typed in the browser) are just wrong');
  t.same(answers.slice(19), Array(10).fill(429), 'from the 21st on, 429: 30 wrong guesses are rate limited');
  const blocked = await postCode(srv.url, ca, typed!);
  t.equal(blocked.status, 429, 'then even the right code waits: the address is blocked, not the code');
  t.equal(blocked.errorCode, 'JOIN_CODE_RATE_LIMITED');
  t.match(blocked.text, /Nhập sai quá nhiều lần/, 'said in Vietnamese');
  t.same(log.filter((l) => l.includes('pageerror')), [], 'no page errors');
});
