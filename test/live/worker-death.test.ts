/**
 * A mediasoup worker dies (killed for real, SIGKILL) in the middle of a session: the session's
 * router is rebuilt on the other worker, the browsers set up their media again by themselves, and
 * everyone receives everyone again; nobody appears to leave.
 */
import t from 'tap';
import { launchChromium } from '../helpers/browser.ts';
import { openPagePeer, pageEvents, receivesFrom, startLiveServer, until } from './liveHelpers.ts';

t.test('worker death during a session: rebuilt on another worker, clients rejoin', async (t) => {
  const live = await startLiveServer({ MEDIASOUP_NUM_WORKERS: '2' });
  t.teardown(() => live.stop());
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const sid = live.session({ endpointsSeeEachOther: true });
  const host = await openPagePeer(browser, live, sid, live.token(sid, 'host-1', 'host'));
  const a = await openPagePeer(browser, live, sid, live.token(sid, 'xa-a', 'endpoint'));
  const b = await openPagePeer(browser, live, sid, live.token(sid, 'xa-b', 'endpoint'));
  await receivesFrom(host, ['xa-a', 'xa-b']);
  const room = live.server.live.rooms.get(sid)!;
  const deadPid = room.worker.pid;

  process.kill(deadPid, 'SIGKILL');
  await until('room rebuilt', () => room.rebuilds === 1);
  t.not(room.worker.pid, deadPid, 'the session router now lives on another worker');
  for (const [name, page] of [['host', host], ['xa-a', a], ['xa-b', b]] as const) {
    await until(`${name} media reset`, async () => (await pageEvents(page)).some((e) => e.e === 'mediaReset'));
  }
  await receivesFrom(host, ['xa-a', 'xa-b']);
  await receivesFrom(a, ['host-1', 'xa-b']);
  await receivesFrom(b, ['host-1', 'xa-a']);
  t.pass('every peer receives every other peer again');
  t.equal(room.producers().length, 6, 'recorder view rebuilt: six producers on the new router');
  for (const page of [host, a, b]) t.notOk((await pageEvents(page)).some((e) => e.e === 'peerLeft'), 'nobody appeared to leave');
  await until('pool replaced the dead worker', () => live.server.pool.allAlive && live.server.pool.workers.every((w) => w.pid !== deadPid));
  t.pass('the pool replaced the dead worker');
});
