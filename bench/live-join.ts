/**
 * Live sessions in real Chromium against a full server:
 *  1. time from the WebSocket opening to the first remote video frame rendered (requestVideoFrameCallback),
 *     over 20 joins of a commune endpoint into a session where the host sends camera + microphone;
 *  2. CPU time of the mediasoup worker carrying a session of 3 peers (host + 2 endpoints that see
 *     each other: 6 producers, 12 consumers), per second of wall time, from the worker's getrusage.
 * Run: node bench/live-join.ts (or npm run bench live-join).
 */
import type { Page } from 'playwright-core';
import { launchChromium } from '../test/helpers/browser.ts';
import { openPagePeer, receivesFrom, sleep, startLiveServer, until } from '../test/live/liveHelpers.ts';

const JOINS = 20;
const CPU_SECONDS = 20;

const live = await startLiveServer({ MEDIASOUP_NUM_WORKERS: '2', LIVE_RECONNECT_GRACE_MS: '1000' });
const browser = await launchChromium();
try {
  const sid = live.session({ endpointsSeeEachOther: true, maxPeers: 50 });
  const host = await openPagePeer(browser, live, sid, live.token(sid, 'host-1', 'host'));

  const joinMs: number[] = [];
  for (let i = 0; i < JOINS; i++) {
    const page = await openPagePeer(browser, live, sid, live.token(sid, `xa-${i}`, 'endpoint'), '&audio=0&video=0');
    const ms = await until('first remote frame', () =>
      page.evaluate(() => {
        const w = window as unknown as { firstFrames: { at: number }[]; client: { timings: { socketOpen?: number } } };
        const first = w.firstFrames[0];
        return first === undefined || w.client.timings.socketOpen === undefined ? undefined : first.at - w.client.timings.socketOpen;
      }),
    );
    joinMs.push(ms);
    await page.evaluate(() => (window as unknown as { client: { leave(): Promise<void> } }).client.leave());
    await page.context().close();
  }
  joinMs.sort((a, b) => a - b);
  const pct = (p: number) => joinMs[Math.min(joinMs.length - 1, Math.ceil((p / 100) * joinMs.length) - 1)]!;

  // Steady session of three peers.
  const a = await openPagePeer(browser, live, sid, live.token(sid, 'xa-a', 'endpoint'));
  const b = await openPagePeer(browser, live, sid, live.token(sid, 'xa-b', 'endpoint'));
  for (const [page, from] of [[host, ['xa-a', 'xa-b']], [a, ['host-1', 'xa-b']], [b, ['host-1', 'xa-a']]] as [Page, string[]][]) await receivesFrom(page, from);
  await sleep(5000); // past the start-up bitrate ramp
  const room = live.server.live.rooms.get(sid)!;
  const worker = room.worker.worker;
  const statsBefore = await Promise.all(['host-1', 'xa-a', 'xa-b'].map((p) => room.getStats(room.requirePeer(p))));
  const u0 = await worker.getResourceUsage();
  const t0 = performance.now();
  await sleep(CPU_SECONDS * 1000);
  const u1 = await worker.getResourceUsage();
  const wall = (performance.now() - t0) / 1000;
  const statsAfter = await Promise.all(['host-1', 'xa-a', 'xa-b'].map((p) => room.getStats(room.requirePeer(p))));
  const cpuMs = u1.ru_utime + u1.ru_stime - (u0.ru_utime + u0.ru_stime);
  const sent = (s: typeof statsBefore) => s.reduce((n, p) => n + p.consumers.reduce((m, c) => m + c.byteCount, 0), 0);
  const forwardedKbps = ((sent(statsAfter) - sent(statsBefore)) * 8) / wall / 1000;
  const consumers = statsAfter.reduce((n, p) => n + p.consumers.length, 0);

  console.log(`socket open → first remote video frame, ${JOINS} joins: median ${pct(50).toFixed(0)} ms, p95 ${pct(95).toFixed(0)} ms (min ${joinMs[0]!.toFixed(0)}, max ${joinMs.at(-1)!.toFixed(0)})`);
  console.log(`mediasoup worker CPU, 3 peers (6 producers, ${consumers} consumers, ${forwardedKbps.toFixed(0)} kbit/s forwarded): ${(cpuMs / wall).toFixed(1)} ms CPU per second (${((cpuMs / wall) / 10).toFixed(2)} % of one core) over ${wall.toFixed(0)} s`);
} finally {
  await browser.close();
  await live.stop();
}
