/**
 * Room rules without workers (milliseconds): membership, the lobby, admission from it, removal,
 * host mute state and the local-recording banner, on a Room whose media is a FAKE
 * (test/helpers/fakeRoomMedia.ts, which throws if anything reaches for media). What needs media
 * (consumers, layers, pipes, rebuilds) is Room.test.ts on real workers.
 */
import { once } from 'node:events';
import t from 'tap';
import type { types } from 'mediasoup';
import { silentLogger } from '../../test/helpers/env.ts';
import { FakeRoomMedia } from '../../test/helpers/fakeRoomMedia.ts';
import type { PeerSummary } from './Peer.ts';
import { Room, type RoomSettings } from './Room.ts';

function room(settings: Partial<RoomSettings> = {}): Room {
  return new Room({ id: 's', settings: { maxPeers: 5, lobbyEnabled: true, endpointsSeeEachOther: false, ...settings }, logger: silentLogger() }, new FakeRoomMedia());
}

const ids = (peers: PeerSummary[]) => peers.map((p) => p.peerId);

t.test('lobby: a commune waits, the host is told, admission lets it in and everyone learns of it', async (t) => {
  const r = room();
  const host = r.addPeer({ peerId: 'h', role: 'host', label: 'Chủ trì' });
  const central = r.addPeer({ peerId: 'c', role: 'central', label: 'Trung tâm' });
  t.equal(central.admitted, false, 'the central room waits too when the session has a lobby');
  r.admit(central);
  const lobbies: string[][] = [];
  host.on('lobby', (w) => lobbies.push(ids(w)));
  const joined: string[] = [];
  central.on('peerJoined', (p) => joined.push(p.peerId));
  const e = r.addPeer({ peerId: 'e', role: 'endpoint', label: 'Xã A' });
  t.equal(e.admitted, false);
  t.same(lobbies, [['e']], 'the host sees it waiting');
  t.same(joined, [], 'the others do not see a waiting commune');
  t.same(ids(r.lobby()), ['e']);
  t.notOk(r.canSee(host, e), 'nobody sees a peer in the lobby');
  const admitted = once(e, 'admitted');
  r.admit(e);
  await admitted;
  t.same(joined, ['e'], 'once admitted, the others see it join');
  t.same(lobbies, [['e'], []], 'and the lobby empties');
  t.ok(r.canSee(host, e) && r.canSee(e, host), 'the host and the commune see each other');
  r.admit(e);
  t.same(joined, ['e'], 'admitting twice changes nothing');
});

t.test('an admitted peer learns who records locally; a contested seat waits in the lobby', async (t) => {
  const r = room({ lobbyEnabled: false });
  const host = r.addPeer({ peerId: 'h', role: 'host', label: 'Chủ trì' });
  const a = r.addPeer({ peerId: 'a', role: 'endpoint', label: 'Xã A' });
  t.ok(a.admitted, 'no lobby: in at once');
  t.ok(r.setLocalRecording(a, true));
  t.notOk(r.setLocalRecording(a, true), 'no change, no news');
  const contested: { peerId: string; inLobby: boolean }[] = [];
  host.on('seatContested', (s) => contested.push({ peerId: s.peerId, inLobby: s.inLobby }));
  const b = r.addPeer({ peerId: 'b', role: 'endpoint', label: 'Xã B', toLobby: true });
  t.equal(b.admitted, false, 'a contested seat waits whatever the setting (M1)');
  r.seatContested(b, true);
  t.same(contested, [{ peerId: 'b', inLobby: true }], 'the chair is told');
  const told = once(b, 'localRecording');
  r.admit(b);
  t.same((await told)[0], { peerId: 'a', label: 'Xã A', recording: true }, 'the newcomer learns that Xã A records');
});

t.test('limits: a full session, the same participant twice, an ended session', async (t) => {
  const r = room({ maxPeers: 2, lobbyEnabled: false });
  r.addPeer({ peerId: 'h', role: 'host', label: 'h' });
  t.throws(() => r.addPeer({ peerId: 'h', role: 'host', label: 'h' }), { code: 'PEER_EXISTS' });
  r.addPeer({ peerId: 't', role: 'technician', label: 't' });
  t.throws(() => r.addPeer({ peerId: 'x', role: 'endpoint', label: 'x' }), { code: 'SESSION_FULL' });
  r.close();
  t.throws(() => r.addPeer({ peerId: 'y', role: 'endpoint', label: 'y' }), { code: 'SESSION_ENDED' });
});

t.test('ejection: the peer is told why, the others see it leave, its local-recording banner goes', async (t) => {
  const r = room({ lobbyEnabled: false });
  const host = r.addPeer({ peerId: 'h', role: 'host', label: 'h' });
  const a = r.addPeer({ peerId: 'a', role: 'endpoint', label: 'Xã A' });
  r.setLocalRecording(a, true);
  const left: [string, string][] = [];
  host.on('peerLeft', (id, reason) => left.push([id, reason]));
  const banners: boolean[] = [];
  host.on('localRecording', (s) => banners.push(s.recording));
  const removed = once(a, 'removed');
  r.removePeer(a, 'ejected');
  t.same(await removed, ['ejected'], 'the ejected peer is told (its socket closes on it)');
  t.same(left, [['a', 'ejected']]);
  t.same(banners, [false], 'nobody goes on seeing it record');
  t.equal(r.getPeer('a'), undefined);
  t.ok(a.closed);
  r.removePeer(a, 'ejected');
  t.same(left, [['a', 'ejected']], 'removing twice changes nothing');
});

t.test('host mute: held until the floor is given back; the peer is told each time', async (t) => {
  const r = room({ lobbyEnabled: false });
  const a = r.addPeer({ peerId: 'a', role: 'endpoint', label: 'Xã A' });
  const told: [types.MediaKind, boolean][] = [];
  a.on('hostMute', (kind, muted) => told.push([kind, muted]));
  t.equal(await a.mute('audio'), 0, 'no producer yet: nothing to pause, the mute still holds');
  await a.mute('audio');
  t.ok(a.mutedByHost.has('audio'));
  t.notOk(a.unmute('video'), 'video was never muted');
  t.ok(a.unmute('audio'));
  t.same(told, [['audio', true], ['audio', false]], 'told once per change');
});

t.test('close: every peer learns the session ended and is removed; the room says `ended` once', async (t) => {
  const r = room({ lobbyEnabled: true });
  const host = r.addPeer({ peerId: 'h', role: 'host', label: 'h' });
  const waiting = r.addPeer({ peerId: 'e', role: 'endpoint', label: 'e' });
  const states: string[] = [];
  for (const p of [host, waiting]) p.on('sessionState', (s) => states.push(`${p.id}:${s.state}`));
  const reasons: string[] = [];
  for (const p of [host, waiting]) p.on('removed', (why) => reasons.push(`${p.id}:${why}`));
  let ended = 0;
  r.on('ended', () => ended++);
  r.close();
  r.close();
  t.same(states, ['h:ended', 'e:ended'], 'the lobby is told too');
  t.same(reasons, ['h:ended', 'e:ended']);
  t.equal(ended, 1);
  t.same(r.peers(), []);
  t.same(r.state, { state: 'ended', recording: false });
});
