/**
 * Time from opening an invitation link (/join#token=…) in Chromium to seeing the central point's
 * video, over HTTPS with the generated certificate: page load, camera and microphone, a click on
 * "Vào phiên" as soon as it is enabled, signaling, ICE/DTLS, first decoded frame of the chair's
 * camera. No lobby (the chair's wait is a human delay). 10 joins; median and p95.
 */
import { randomUUID } from 'node:crypto';
import { InMemorySessionDirectory } from '../src/domain/sessionDirectory.ts';
import { TiepdanServer } from '../src/server.ts';
import { launchChromium } from '../test/helpers/browser.ts';
import { silentLogger, tempDataDir, testConfig } from '../test/helpers/env.ts';

const RUNS = Number(process.env.WEB_JOIN_RUNS ?? 10);
const tmp = await tempDataDir('tiepdan-bench-');
const directory = new InMemorySessionDirectory();
const server = await TiepdanServer.start(await testConfig(tmp.dir, { TLS: 'auto' }), silentLogger(), { sessionDirectory: directory });
const browser = await launchChromium();
try {
  const sessionId = randomUUID();
  directory.put({ id: sessionId, title: 'Đo thời gian vào phiên', admission: 'open', maxPeers: 50, lobbyEnabled: false, endpointsSeeEachOther: false, autoRecord: false, participantRecordingAllowed: false });
  const issue = (role: string, name: string) =>
    server.live.tokens.issue({ kind: 'invitation', sessionId, subject: randomUUID(), role, displayName: name, ttlSeconds: 3600 }).token;
  const hostContext = await browser.newContext({ ignoreHTTPSErrors: true });
  const host = await hostContext.newPage();
  await host.goto(`${server.url}/join#token=${issue('host', 'Chủ trì')}`);
  await host.click('#join:not([disabled])');
  await host.waitForSelector('body[data-room-state=joined]');

  const fromOpen: number[] = [];
  const fromClick: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    await page.goto(`${server.url}/join#token=${issue('endpoint', `Xã ${i + 1}`)}`);
    await page.click('#join:not([disabled])', { timeout: 30_000 });
    await page.waitForSelector('.tile[data-role=host][data-video=playing]', { timeout: 60_000 });
    const t = await page.evaluate(() => (window as unknown as { tiepdanRoom: { timings: Record<string, number> } }).tiepdanRoom.timings);
    fromOpen.push(t.firstCentralVideo!);
    fromClick.push(t.firstCentralVideo! - t.joinClicked!);
    await context.close();
  }
  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
    return `median ${at(0.5).toFixed(0)} ms, p95 ${at(0.95).toFixed(0)} ms, min ${s[0]!.toFixed(0)} ms, max ${s[s.length - 1]!.toFixed(0)} ms`;
  };
  console.log(`invitation link opened → central video shown (${RUNS} joins): ${stats(fromOpen)}`);
  console.log(`"Vào phiên" clicked    → central video shown (${RUNS} joins): ${stats(fromClick)}`);
} finally {
  await browser.close();
  await server.stop();
  await tmp.remove();
}
