/**
 * "Xin phát biểu" over /ws (NĐ 154/2026 Art 21(2): microphones on only when the chair asks a point
 * to speak): a point raises its hand and everyone is told, in the order hands went up; the chair
 * gives the floor and only that point is told to turn its microphone on; its hand goes down; a
 * point cannot give itself the floor; a hand goes down when its point leaves; a late joiner (the
 * chair's console) learns the raised hands from the join answer, and a point admitted from the
 * lobby later learns them with its admission.
 */
import t from 'tap';
import { WsPeer, startLiveServer } from './liveHelpers.ts';

t.test('raise a hand, give the floor', async (t) => {
  const live = await startLiveServer();
  t.teardown(() => live.stop());
  const sid = live.session();
  const a = await WsPeer.open(live.wsUrl);
  await a.join(sid, live.token(sid, 'xa-a', 'endpoint'));
  const b = await WsPeer.open(live.wsUrl);
  await b.join(sid, live.token(sid, 'xa-b', 'endpoint'));

  t.same((await b.request('raiseHand', { raised: true })).data, { raised: true });
  t.match(await a.waitFor('handRaised', (d) => d.peerId === 'xa-b'), { peerId: 'xa-b', raised: true }, 'the others see the hand');
  await a.request('raiseHand', { raised: true });
  t.equal((await a.request('giveFloor', { peerId: 'xa-a' })).error?.code, 'FORBIDDEN', 'a point cannot give itself the floor');

  // The chair's console joins late: the join answer lists the hands, first raised first.
  const host = await WsPeer.open(live.wsUrl);
  const joined = await host.join(sid, live.token(sid, 'host-1', 'host'));
  t.same((joined.data?.raisedHands as { peerId: string }[]).map((r) => r.peerId), ['xa-b', 'xa-a'], 'the chair sees who asked, in order');

  t.equal((await host.request('giveFloor', { peerId: 'xa-b' })).ok, true);
  t.ok(await b.waitFor('floorGiven'), 'the point given the floor is told (its page turns the microphone on)');
  t.match(await host.waitFor('handRaised', (d) => d.peerId === 'xa-b' && d.raised === false), { raised: false }, 'its hand goes down for everyone');
  t.notOk(a.notifications.some((n) => n.notification === 'floorGiven'), 'the other point is not given the floor');
  t.equal((await host.request('giveFloor', { peerId: 'nobody' })).error?.code, 'PEER_NOT_FOUND');

  await a.request('leave');
  t.match(await host.waitFor('handRaised', (d) => d.peerId === 'xa-a' && d.raised === false), { raised: false }, 'a hand goes down when its point leaves');
});

t.test('a point admitted from the lobby later learns the hands raised meanwhile, first raised first', async (t) => {
  const live = await startLiveServer();
  t.teardown(() => live.stop());
  const sid = live.session({ lobbyEnabled: true });
  const host = await WsPeer.open(live.wsUrl);
  await host.join(sid, live.token(sid, 'host-1', 'host'));
  const a = await WsPeer.open(live.wsUrl);
  await a.join(sid, live.token(sid, 'xa-a', 'endpoint'));
  const b = await WsPeer.open(live.wsUrl);
  await b.join(sid, live.token(sid, 'xa-b', 'endpoint'));
  t.equal((await host.request('admitPeer', { peerId: 'xa-a' })).ok, true);
  t.equal((await host.request('admitPeer', { peerId: 'xa-b' })).ok, true);
  await b.request('raiseHand', { raised: true });
  await a.request('raiseHand', { raised: true });

  const late = await WsPeer.open(live.wsUrl);
  const joined = await late.join(sid, live.token(sid, 'xa-c', 'endpoint'));
  t.same(joined.data?.raisedHands, [], 'in the lobby: no hands yet');
  t.equal((await host.request('admitPeer', { peerId: 'xa-c' })).ok, true);
  await late.waitFor('handRaised', (d) => d.peerId === 'xa-a');
  const hands = late.notifications.filter((n) => n.notification === 'handRaised').map((n) => [n.data.peerId, n.data.raised]);
  t.same(hands, [['xa-b', true], ['xa-a', true]], 'admitted: the raised hands, in the order they went up');
});
