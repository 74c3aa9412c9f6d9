/**
 * Reconnection in a real browser: a commune's socket drops; within the grace period it comes back
 * with the same peer id, its transports resumed by ICE restart, and the others never see it leave.
 * Past the grace period the others are told it left, and when it comes back it joins afresh.
 */
import t from 'tap';
import type { Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { openPagePeer, pageEvents, receivesFrom, sleep, startLiveServer, until } from './liveHelpers.ts';

const GRACE_MS = 5000;

type ClientView = { state: string; info: { peerId: string; resumed: boolean } };
const clientView = (page: Page) =>
  page.evaluate(() => {
    const c = (window as unknown as { client: ClientView }).client;
    return { state: c.state, peerId: c.info.peerId, resumed: c.info.resumed };
  });

t.test('drop within and past the grace period', async (t) => {
  const live = await startLiveServer({ LIVE_RECONNECT_GRACE_MS: String(GRACE_MS) });
  t.teardown(() => live.stop());
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const sid = live.session();
  const host = await openPagePeer(browser, live, sid, live.token(sid, 'host-1', 'host'));
  const commune = await openPagePeer(browser, live, sid, live.token(sid, 'xa-a', 'endpoint'));
  await receivesFrom(host, ['xa-a']);
  await receivesFrom(commune, ['host-1']);
  const room = live.server.live.rooms.get(sid)!;

  // 1. A short drop: back within the grace period.
  await commune.evaluate(() => (window as unknown as { client: { dropConnection(ms: number): void } }).client.dropConnection(0));
  await until('commune reconnecting', async () => (await pageEvents(commune)).some((e) => e.e === 'state' && e.d === 'reconnecting'));
  await until('commune back', async () => {
    const v = await clientView(commune);
    return v.state === 'joined' && v.resumed ? v : undefined;
  });
  const back = await clientView(commune);
  t.equal(back.peerId, 'xa-a', 'same peer id after the reconnect');
  t.equal(back.resumed, true, 'transports resumed (ICE restart), not rebuilt');
  await sleep(GRACE_MS + 1000);
  t.notOk((await pageEvents(host)).some((e) => e.e === 'peerLeft'), 'the host never saw the commune leave');
  t.equal(room.peers().length, 2);
  await receivesFrom(host, ['xa-a']);
  await receivesFrom(commune, ['host-1']);
  t.pass('media flows both ways after the reconnect');

  // 2. A long drop: past the grace period the others are told; coming back joins afresh.
  await commune.evaluate((ms) => (window as unknown as { client: { dropConnection(ms: number): void } }).client.dropConnection(ms), GRACE_MS + 4000);
  const left = await until('host sees the commune leave', async () =>
    (await pageEvents(host)).find((e) => e.e === 'peerLeft' && (e.d as { peerId: string }).peerId === 'xa-a'),
  );
  t.equal((left.d as { reason: string }).reason, 'timeout', 'left because the grace period ran out');
  t.equal(room.peers().length, 1);
  await until('host sees the commune come back', async () =>
    (await pageEvents(host)).some((e) => e.e === 'peerJoined' && (e.d as { peerId: string }).peerId === 'xa-a'),
  40000);
  const fresh = await until('commune joined again', async () => {
    const v = await clientView(commune);
    return v.state === 'joined' ? v : undefined;
  });
  t.equal(fresh.resumed, false, 'joined afresh: the server had let it go');
  await receivesFrom(host, ['xa-a']);
  await receivesFrom(commune, ['host-1']);
  t.pass('media flows both ways after joining again');
});
