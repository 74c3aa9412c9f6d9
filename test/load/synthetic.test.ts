/**
 * The short version of the province-scale bench (bench/load.ts), for CI: a session made through
 * the control API, its central point and a dozen commune points as synthetic bridge points (real
 * /ws protocol and invitations, real ICE/DTLS (werift) and SRTP (the generator's lean path), Opus and three-layer simulcast VP8), ten
 * seconds of media. Every point must join, every commune must keep receiving the central point's
 * audio and video, the central point every commune's, and once everyone is in, nothing may be
 * lost on the way — in either direction (counted at the receivers from RTP sequence numbers, and by the SFU on what
 * the points send).
 */
import t from 'tap';
import { TiepdanServer } from '../../src/server.ts';
import { encodedMedia } from '../../bench/load/media.ts';
import { PointFleet } from '../../bench/load/pointFleet.ts';
import { benchStaff, createLoadSession } from '../../bench/load/loadSession.ts';
import { producerLoss, udpDrops } from '../../bench/load/serverStats.ts';
import { silentLogger, tempDataDir, testConfig } from '../helpers/env.ts';

const POINTS = 12;
const SECONDS = 10;

t.test('a dozen synthetic bridge points for ten seconds: all joined, all media arriving, nothing lost', { timeout: 180_000 }, async (t) => {
  // FFmpeg runs once per machine (cached under ~/.cache/tiepdan); not part of what is measured.
  await encodedMedia();
  const data = await tempDataDir('tiepdan-load-');
  const server = await TiepdanServer.start(await testConfig(data.dir), silentLogger());
  let fleet: PointFleet | undefined;
  t.teardown(async () => {
    await fleet?.stop();
    await server.stop();
    await data.remove();
  });
  const staff = await benchStaff(server);
  const session = await createLoadSession(staff, POINTS);
  // The CI budget covers the live part: joins, ten seconds of media, the checks.
  const started = performance.now();
  const wsUrl = `${server.url.replace(/^http/, 'ws')}/ws`;
  // The central point shows the communes as thumbnails (lowest layer) and the speaker large, the
  // communes the central point large. The central point speaks, and the first commune has the
  // floor; the other communes join muted.
  const seats = [session.centralToken, ...session.pointTokens].map((token, i) => ({
    sessionId: session.sessionId,
    token,
    speaking: i <= 1,
    ...(i === 0 ? { viewSize: { width: 160, height: 90 }, speakerViewSize: { width: 1280, height: 720 } } : {}),
  }));
  fleet = await PointFleet.start({ wsUrl, seats, joinConcurrency: 4 });
  const upBefore = await producerLoss(server, session.sessionId);
  const dropsBefore = await udpDrops();
  fleet.mark();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const report = await fleet.report();
  const [central, ...communes] = report.points;

  t.equal(report.points.filter((p) => p.joined).length, POINTS + 1, `every point joined (${report.points.filter((p) => p.error).map((p) => p.error).join('; ') || 'no errors'})`);
  t.equal(central!.consumers, 2 * POINTS, 'the central point is offered every commune’s microphone and camera');
  t.ok(central!.audioArriving && central!.videoArriving, 'the central point keeps receiving audio and video');
  t.equal(central!.videoStreamsArriving, POINTS, 'the central point keeps receiving every commune’s video');
  for (const p of communes) {
    t.equal(p.consumers, 2, `${p.peerId}: offered the central point’s microphone and camera only`);
    t.ok(p.audioArriving && p.videoArriving, `${p.peerId}: audio and video keep arriving`);
  }
  // The lean media path authenticates a sample of what arrives (bench/load/srtp.ts): some, and none failing.
  const checked = report.points.reduce((n, p) => n + p.srtpChecked, 0);
  t.ok(report.points.every((p) => p.srtpChecked > 0), `every point authenticated SRTP it received (${checked} packets checked)`);
  t.equal(report.points.reduce((n, p) => n + p.srtpFailures, 0), 0, 'no received SRTP packet failed authentication');
  const lostIn = report.points.reduce((n, p) => n + p.lostIn, 0);
  const expectedIn = report.points.reduce((n, p) => n + p.expectedIn, 0);
  // At full pace ~20,000 packets; a starved CI machine skips sends (the pacer does not burst), so
  // the floor is a fifth of the audio alone — still far above what a stalled forwarder shows.
  t.ok(expectedIn > POINTS * SECONDS * 10, `packets arrived at the points (${expectedIn})`);
  t.equal(lostIn, 0, `no packet lost on the way to the points (${lostIn} of ${expectedIn})`);
  const upAfter = await producerLoss(server, session.sessionId);
  const up = { expected: upAfter.expected - upBefore.expected, lost: upAfter.lost - upBefore.lost };
  t.ok(up.expected > POINTS * SECONDS * 10, `the SFU received the points’ media (${up.expected} packets)`);
  t.equal(up.lost, 0, `no packet lost on the way to the SFU (${up.lost} of ${up.expected})`);
  const drops = await udpDrops();
  t.comment(`kernel UDP buffer drops on this machine during the window: receive ${drops.rcvbufErrors - dropsBefore.rcvbufErrors}, send ${drops.sndbufErrors - dropsBefore.sndbufErrors}`);
  const seconds = (performance.now() - started) / 1000;
  // Reported, not asserted: a wall-clock assertion fails on a shared machine for reasons the
  // test does not measure (49 s here at a load average of 25 on 2 cores); the timeout is the guard.
  t.comment(`joins, media and checks took ${seconds.toFixed(0)} s`);
  t.comment(`fleet CPU ${report.cpuPct.toFixed(0)} % of one core for ${POINTS + 1} points (with the server in the same process), worst pacer gap ${report.maxTickGapMs.toFixed(0)} ms, ${report.skippedSends} sends skipped`);
});
