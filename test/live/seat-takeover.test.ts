/**
 * Security review M1, reproduced: a leaked invitation (the paper giấy mời, a URL in a history) used
 * to take over a connected bridge point's seat at once — admitted, no lobby, the chair not told, the
 * commune kicked for good — and an ejection locked the point out even after its invitation was
 * re-issued. Now only the seat's own client (its resume secret) takes the seat back; anyone else is
 * refused while the seat is connected and sent to the lobby while it is away, the chair told both
 * times; an ejection bars that invitation only, so a re-issued one gets in.
 */
import t from 'tap';
import { WsPeer, sleep, startLiveServer, until } from './liveHelpers.ts';

t.test('a second holder of an invitation does not silently take the seat', async (t) => {
  const live = await startLiveServer({ LIVE_RECONNECT_GRACE_MS: '20000' });
  t.teardown(() => live.stop());
  const sid = live.session({ lobbyEnabled: false });
  const host = await WsPeer.open(live.wsUrl);
  t.equal((await host.join(sid, live.token(sid, 'host-1', 'host'))).ok, true);
  const paper = live.token(sid, 'xa-a', 'endpoint', { name: 'UBND xã A' });
  const commune = await WsPeer.open(live.wsUrl);
  const first = await commune.join(sid, paper);
  t.equal(first.data?.admitted, true, 'the commune is admitted (no lobby in this session)');
  const secret = String(first.data?.resumeSecret);

  // The attack: the same token from somewhere else while the commune is connected.
  const intruder = await WsPeer.open(live.wsUrl);
  const refused = await intruder.join(sid, paper);
  t.equal(refused.error?.code, 'SEAT_IN_USE', 'refused while the seat is connected');
  const told = await host.waitFor('seatContested', (d) => d.peerId === 'xa-a');
  t.match(told, { label: 'UBND xã A', inLobby: false }, 'the chair is told which seat');
  await sleep(200);
  t.equal(commune.closeCode, undefined, 'the commune keeps its connection');
  t.notOk(commune.notifications.some((n) => n.notification === 'kicked'), 'and is not kicked');
  t.equal(live.server.live.rooms.get(sid)?.getPeer('xa-a')?.admitted, true, 'and stays admitted');

  // A wrong secret is no better than none.
  const guesser = await WsPeer.open(live.wsUrl);
  t.equal((await guesser.join(sid, paper, { resumeSecret: 'A'.repeat(32) })).error?.code, 'SEAT_IN_USE', 'a guessed secret is refused');

  // The commune's own reconnect (its secret) takes the seat back as before.
  const again = await WsPeer.open(live.wsUrl);
  const resumed = await again.join(sid, paper, { resumeSecret: secret });
  t.equal(resumed.ok, true, 'the seat’s own client comes back');
  t.equal(resumed.data?.admitted, true);
  t.equal(await commune.closed, 4001, 'its old connection is replaced');

  // While the seat is away (socket dropped, grace period), a newcomer without the secret waits in
  // the lobby — even in a session without one — and the chair is told.
  again.close();
  await until('seat away', () => live.server.live.signaling.memberCount(sid) === 2 && again.closeCode !== undefined);
  const stranger = await WsPeer.open(live.wsUrl);
  const waiting = await stranger.join(sid, paper);
  t.equal(waiting.ok, true);
  t.equal(waiting.data?.admitted, false, 'the newcomer waits in the lobby');
  t.match(await host.waitFor('seatContested', (d) => d.inLobby === true), { peerId: 'xa-a' }, 'the chair is told it waits');
  t.match(await host.waitFor('lobby', (d) => (d.waiting as { peerId: string }[]).some((p) => p.peerId === 'xa-a')), {}, 'and sees it in the lobby');
  t.equal((await stranger.request('createTransport', { direction: 'send' })).error?.code, 'IN_LOBBY', 'no media from the lobby');

  // The chair ejects it: that invitation is barred; the point's re-issued invitation gets in.
  t.equal((await host.request('ejectPeer', { peerId: 'xa-a' })).ok, true);
  t.equal(await stranger.closed, 4002);
  const barred = await WsPeer.open(live.wsUrl);
  t.equal((await barred.join(sid, paper)).error?.code, 'PEER_EJECTED', 'the leaked invitation cannot come back');
  const reissued = await WsPeer.open(live.wsUrl);
  const back = await reissued.join(sid, live.token(sid, 'xa-a', 'endpoint', { name: 'UBND xã A' }));
  t.equal(back.ok, true, 'the re-issued invitation of the same point is admitted');
  t.equal(back.data?.admitted, true);
  for (const p of [host, intruder, guesser, barred, reissued]) p.close();
});
