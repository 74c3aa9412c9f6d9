/**
 * Security review L14: TURN credentials went to peers still waiting in the lobby (`join` answered
 * with them at once). A leaked invitation bought relay time on the TURN server without the host
 * ever admitting it. Now the lobby's join answer has no iceServers; the `admitted` notification
 * brings them, and an admitted peer's (re)join carries them as before.
 */
import t from 'tap';
import { WsPeer, startLiveServer } from './liveHelpers.ts';

t.test('TURN credentials only after admission', async (t) => {
  const live = await startLiveServer({ TURN_URLS: 'turn:turn.example.vn:3478', TURN_SECRET: 'x'.repeat(24) });
  t.teardown(() => live.stop());
  const sid = live.session({ lobbyEnabled: true });
  const host = await WsPeer.open(live.wsUrl);
  t.teardown(() => host.close());
  const hostJoin = await host.join(sid, live.token(sid, 'host-1', 'host'));
  t.equal((hostJoin.data?.iceServers as unknown[]).length, 1, 'the host (admitted at once) gets its TURN credential');

  const commune = await WsPeer.open(live.wsUrl);
  t.teardown(() => commune.close());
  const waiting = await commune.join(sid, live.token(sid, 'xa-a', 'endpoint'));
  t.equal(waiting.data?.admitted, false, 'the commune waits in the lobby');
  t.same(waiting.data?.iceServers, [], 'and gets no TURN credential there');

  t.equal((await host.request('admitPeer', { peerId: 'xa-a' })).ok, true);
  const admitted = await commune.waitFor('admitted');
  const [ice] = admitted.iceServers as { urls: string[]; username: string; credential: string }[];
  t.ok(ice !== undefined, 'the admission brings it');
  t.match(ice?.username, /^\d+:xa-a$/, 'a credential for this peer');
  t.ok((ice?.credential ?? '').length > 10);
});
