import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import t from 'tap';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { WsPeer, startLiveServer, type LiveServer } from '../live/liveHelpers.ts';
import { screenshot } from './helpers.ts';

/**
 * The room page's local recording in Debian's Chromium with fake camera and microphone: the
 * "Ghi hình tại điểm cầu" button is there only when the chair allows it for the session; a commune
 * that records shows a red banner on every participant's page; stopping downloads a WebM file.
 */

t.setTimeout(300_000);

async function openRoom(browser: Browser, live: LiveServer, sid: string, subject: string, log: string[]): Promise<Page> {
  const context = await browser.newContext({ acceptDownloads: true, locale: 'vi-VN', viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => log.push(`[${subject}] pageerror: ${e.message}`));
  page.on('dialog', (d) => void d.accept());
  const token = live.token(sid, subject, 'endpoint', { name: `UBND ${subject}` });
  await page.goto(`${live.server.url}/join#token=${encodeURIComponent(token)}`);
  await page.waitForSelector('#join:not([disabled])', { timeout: 60_000 });
  await page.click('#join');
  await page.waitForSelector('body[data-room-state=joined]', { timeout: 60_000 });
  return page;
}

t.test('local recording on the room page', async (t) => {
  const live = await startLiveServer();
  t.teardown(() => live.stop());
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const log: string[] = [];
  t.teardown(() => {
    if (log.length > 0) t.comment(log.slice(0, 40).join('\n'));
  });

  // Default session: local recording is off, so there is no button.
  const forbidden = live.session();
  const plain = await openRoom(browser, live, forbidden, 'xa-khong', log);
  t.equal(await plain.isVisible('#local-recording'), false, 'no record button when the chair has not allowed it');
  t.equal(await plain.isVisible('#local-recording-banner'), false, 'no banner');
  await plain.context().close();

  // Allowed: a host (on ws) and two communes that see each other.
  const sid = live.session({ participantRecordingAllowed: true, endpointsSeeEachOther: true });
  const host = await WsPeer.open(live.wsUrl);
  t.equal((await host.join(sid, live.token(sid, 'host-1', 'host'))).ok, true);
  const a = await openRoom(browser, live, sid, 'xa-a', log);
  const b = await openRoom(browser, live, sid, 'xa-b', log);
  await a.waitForSelector('#local-recording', { state: 'visible', timeout: 10_000 });
  t.equal((await a.locator('#local-recording').innerText()).trim(), 'Ghi hình tại điểm cầu', 'the button is shown, in Vietnamese');
  // Some picture from the other commune, so the recording has more than the own camera.
  await a.waitForSelector('.tile[data-peer-id=xa-b][data-video=playing]', { timeout: 60_000 });

  await a.click('#local-recording');
  await b.waitForSelector('#local-recording-banner', { state: 'visible', timeout: 20_000 });
  t.match(await b.locator('#local-recording-banner').innerText(), /Đang ghi hình tại điểm cầu: UBND xa-a/, 'the other commune sees who records');
  await a.waitForSelector('#local-recording-banner', { state: 'visible', timeout: 20_000 });
  t.match(await a.locator('#local-recording-banner').innerText(), /Đang ghi hình tại điểm cầu/, 'the recording commune sees its own banner');
  t.equal((await a.locator('#local-recording').innerText()).trim(), 'Dừng ghi hình tại điểm cầu', 'the button now stops');
  await host.waitFor('localRecording', (d) => d.peerId === 'xa-a' && d.recording === true);
  t.pass('the chair is told too');
  await screenshot(b, '20-room-local-recording-banner');

  // Record a few seconds (wall-clock; the assertion is only that the file is non-empty WebM).
  await a.waitForTimeout(4000);
  const downloading = a.waitForEvent('download', { timeout: 30_000 });
  await a.click('#local-recording');
  const download = await downloading;
  t.match(download.suggestedFilename(), /^ghi-hinh-diem-cau-\d{8}-\d{6}\.webm$/, 'a WebM file name without personal data');
  const file = await readFile((await download.path())!);
  t.ok(file.length > 10_000, `the recording has content (${file.length} bytes)`);
  t.equal(file.subarray(0, 4).toString('hex'), '1a45dfa3', 'it is a WebM (EBML) file');
  // FFmpeg reads it: a picture and a sound track (the room's voices mixed with the microphone).
  const probe = JSON.parse((await promisify(execFile)('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', (await download.path())!])).stdout) as { streams: { codec_type: string; codec_name: string }[] };
  t.same(probe.streams.map((s) => s.codec_type).sort(), ['audio', 'video'], `ffprobe sees video and audio (${probe.streams.map((s) => s.codec_name).join(', ')})`);
  t.ok(await a.isVisible('#local-recording-downloads a'), 'a download link stays on the page');
  await b.waitForSelector('#local-recording-banner', { state: 'hidden', timeout: 20_000 });
  t.pass('the banner goes away on the other page when the recording stops');
  await host.waitFor('localRecording', (d) => d.peerId === 'xa-a' && d.recording === false);

  t.same(log, [], 'no page errors');
  host.close();
});
