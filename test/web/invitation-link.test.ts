/**
 * Security review L8 and L14 in a real Chromium: an old printed link (/join/<token>) is sent on to
 * the fragment form, the page reads the token and removes it from the address bar (replaceState),
 * a reload still joins (the tab keeps it), and the room's WebSocket connects under the page's
 * `connect-src 'self'` policy (no `ws:`/`wss:` wildcard any more).
 */
import t from 'tap';
import { launchChromium } from '../helpers/browser.ts';
import { startLiveServer } from '../live/liveHelpers.ts';

t.test('invitation links keep the token out of the address bar; the room connects under the CSP', async (t) => {
  const live = await startLiveServer();
  t.teardown(() => live.stop());
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const sid = live.session({});
  const token = live.token(sid, 'xa-link', 'endpoint', { name: 'UBND xã Liên Kết' });

  const context = await browser.newContext();
  const page = await context.newPage();
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  const navigated: string[] = [];
  page.on('framenavigated', (f) => f === page.mainFrame() && navigated.push(f.url()));

  // The paper invitation's old form.
  const response = await page.goto(`${live.server.url}/join/${token}`);
  t.equal(response?.status(), 200, 'the room page opens');
  t.match(response?.request().redirectedFrom()?.url() ?? '', /\/join\/td1\./, 'after a redirect from the old link');
  await page.waitForSelector('#join:not([disabled])', { timeout: 60_000 });
  t.equal(page.url(), `${live.server.url}/join`, 'the address bar shows /join, without the token');
  t.notOk(await page.evaluate(() => location.href.includes('td1.')), 'the token is not in location');
  t.notOk(navigated.slice(1).some((u) => u.includes('td1.')), 'nor in the history entry the page left');

  // The page works with the token it read: it joins over the WebSocket (CSP connect-src 'self').
  await page.click('#join');
  await page.waitForSelector('body[data-room-state=joined]', { timeout: 60_000 });
  t.same(violations, [], 'no CSP violation: the same-origin WebSocket is allowed by connect-src self');
  t.match((await page.request.get(`${live.server.url}/join`)).headers()['content-security-policy'], /connect-src 'self'(;|$)/, "connect-src is 'self' only");

  // A reload (same tab) still finds the invitation.
  await page.reload();
  await page.waitForSelector('#join:not([disabled])', { timeout: 60_000 });
  t.equal(page.url(), `${live.server.url}/join`, 'after a reload too');
  await context.close();

  // A new tab on the bare /join (a copied address) has no invitation.
  const other = await browser.newContext();
  const bare = await other.newPage();
  await bare.goto(`${live.server.url}/join`);
  await bare.waitForSelector('text=/liên kết mời/i', { timeout: 30_000 });
  // Read at once ($eval does not wait): isEnabled would wait its whole timeout for a button the
  // page may never draw, which cost this test 20 s.
  const joinable = await bare.$eval('#join', (b) => !(b as HTMLButtonElement).disabled).catch(() => false);
  t.notOk(joinable, 'a copied bare address does not join');
  await other.close();
});
