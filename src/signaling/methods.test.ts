/**
 * The method table without sockets or workers: each request's permission, the lobby rule, and
 * moderation (mute, eject, admit) on a Room whose media is a FAKE (test/helpers/fakeRoomMedia.ts).
 * Admission and its LiveStore are the real in-memory ones.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import type { RequestData } from '../contract/signaling.ts';
import { DEFAULT_SESSION_SETTINGS, InMemorySessionDirectory } from '../domain/sessionDirectory.ts';
import { Admission } from '../live/admission.ts';
import { RecordingPolicy } from '../live/recordingPolicy.ts';
import { Room } from '../live/Room.ts';
import type { ParticipantRole } from '../tokens/tokenSigner.ts';
import { MemoryLiveStore } from '../store/MemoryLiveStore.ts';
import { TokenSigner } from '../tokens/tokenSigner.ts';
import { silentLogger } from '../../test/helpers/env.ts';
import { FakeRoomMedia } from '../../test/helpers/fakeRoomMedia.ts';
import { runMethod, type LiveAuditAction, type LiveMethod, type Membership, type MethodHost } from './methods.ts';

function setUp(lobbyEnabled = false) {
  const directory = new InMemorySessionDirectory();
  directory.put({ ...DEFAULT_SESSION_SETTINGS, id: 's', title: 'Phiên', lobbyEnabled });
  const store = new MemoryLiveStore();
  const room = new Room({ id: 's', settings: { maxPeers: 10, lobbyEnabled, endpointsSeeEachOther: false }, logger: silentLogger() }, new FakeRoomMedia());
  const members = new Map<string, Membership>();
  const audited: LiveAuditAction[] = [];
  const removed: string[] = [];
  const host: MethodHost = {
    logger: silentLogger(),
    admission: new Admission({ tokens: new TokenSigner(randomBytes(32)), directory, store }),
    recording: new RecordingPolicy({ directory, logger: silentLogger() }),
    audit: { record: async (_actor, action) => void audited.push(action) },
    ender: undefined,
    memberOf: (_sid, peerId) => members.get(peerId),
    remove: (m, reason) => {
      members.delete(m.peer.id);
      room.removePeer(m.peer, reason);
      removed.push(`${m.peer.id}:${reason}`);
    },
    setHand: () => undefined,
  };
  const join = (peerId: string, role: ParticipantRole): Membership => {
    const peer = room.addPeer({ peerId, role, label: peerId });
    const m: Membership = {
      key: peerId,
      sessionId: 's',
      room,
      peer,
      actor: { kind: 'invitation', id: `jti-${peerId}`, role: undefined, label: peerId, bridgePointId: null, sessionId: 's', subject: peerId },
      jti: `jti-${peerId}`,
      resumeSecret: 'x'.repeat(32),
      connection: undefined,
      unsubscribe: undefined,
      graceTimer: undefined,
    };
    members.set(peerId, m);
    return m;
  };
  const call = <M extends LiveMethod>(m: Membership, method: M, data: RequestData<M>) => runMethod(method, { host, m, reachedAddress: undefined }, data);
  return { directory, store, room, join, call, audited, removed };
}

t.test('moderation is for hosts: every other role gets FORBIDDEN, nothing happens', async (t) => {
  const { join, call, audited } = setUp();
  join('h', 'host');
  const a = join('a', 'endpoint');
  const b = join('b', 'endpoint');
  for (const caller of [a, join('o', 'observer'), join('t', 'technician')]) {
    await t.rejects(call(caller, 'mutePeer', { peerId: b.peer.id, kind: 'audio' }), { code: 'FORBIDDEN' }, `${caller.peer.role} cannot mute`);
    await t.rejects(call(caller, 'ejectPeer', { peerId: b.peer.id }), { code: 'FORBIDDEN' });
    await t.rejects(call(caller, 'admitPeer', { peerId: b.peer.id }), { code: 'FORBIDDEN' });
    await t.rejects(call(caller, 'endSession', {}), { code: 'FORBIDDEN' });
    await t.rejects(call(caller, 'startRecording', {}), { code: 'FORBIDDEN' });
    await t.rejects(call(caller, 'giveFloor', { peerId: b.peer.id }), { code: 'FORBIDDEN' });
  }
  t.notOk(b.peer.mutedByHost.has('audio'));
  t.same(audited, [], 'nothing audited');
});

t.test('media and statistics: what a role may ask for', async (t) => {
  const { join, call } = setUp();
  const h = join('h', 'host');
  const a = join('a', 'endpoint');
  const o = join('o', 'observer');
  const tech = join('t', 'technician');
  await t.rejects(call(o, 'createTransport', { direction: 'send' }), { code: 'FORBIDDEN', message: 'your role may not send media' }, 'an observer sends nothing');
  await t.rejects(call(tech, 'createTransport', { direction: 'recv' }), { code: 'FORBIDDEN' }, 'a technician receives nothing');
  await t.rejects(call(o, 'startLocalRecording', {}), { code: 'FORBIDDEN' }, 'an observer never records locally');
  await t.rejects(call(a, 'getStats', { peerId: 'h' }), { code: 'FORBIDDEN' }, "a commune cannot read others' statistics");
  t.equal((await call(a, 'getStats', {})).peerId, 'a', 'its own it can');
  t.equal((await call(tech, 'getStats', { peerId: 'a' })).peerId, 'a', 'a technician can inspect');
  t.equal((await call(h, 'getStats', { peerId: 'a' })).peerId, 'a', 'so can the host');
  await t.rejects(call(h, 'getStats', { peerId: 'nobody' }), { code: 'PEER_NOT_FOUND' });
});

t.test('the lobby: a waiting peer may not raise its hand or set up media until admitted', async (t) => {
  const { join, call, audited } = setUp(true);
  const h = join('h', 'host');
  const e = join('e', 'endpoint');
  t.equal(e.peer.admitted, false);
  await t.rejects(call(e, 'raiseHand', { raised: true }), { code: 'IN_LOBBY' });
  await t.rejects(call(e, 'createTransport', { direction: 'send' }), { code: 'IN_LOBBY' });
  t.same(await call(h, 'admitPeer', { peerId: 'e' }), {});
  t.ok(e.peer.admitted);
  t.same(await call(e, 'raiseHand', { raised: true }), { raised: true });
  t.same(audited, ['live.peer.admitted']);
});

t.test('mute: the host mutes a commune, the mute holds until the floor is given back, all audited', async (t) => {
  const { join, call, audited } = setUp();
  const h = join('h', 'host');
  const a = join('a', 'endpoint');
  t.same(await call(h, 'mutePeer', { peerId: 'a', kind: 'audio' }), { muted: 0 });
  t.ok(a.peer.mutedByHost.has('audio'));
  t.same(await call(h, 'giveFloor', { peerId: 'a' }), {}, 'giving the floor lifts the mute');
  t.notOk(a.peer.mutedByHost.has('audio'));
  t.same(await call(h, 'unmutePeer', { peerId: 'a', kind: 'video' }), { unmuted: false });
  await t.rejects(call(h, 'mutePeer', { peerId: 'nobody', kind: 'audio' }), { code: 'PEER_NOT_FOUND' });
  t.same(audited, ['live.peer.muted', 'live.peer.floor', 'live.peer.unmuted']);
});

t.test('ejection: the host removes a commune; its invitation cannot come back', async (t) => {
  const { join, call, store, removed, audited } = setUp();
  const h = join('h', 'host');
  join('a', 'endpoint');
  await t.rejects(call(h, 'ejectPeer', { peerId: 'h' }), { code: 'CANNOT_TARGET_SELF' });
  await t.rejects(call(h, 'ejectPeer', { peerId: 'nobody' }), { code: 'PEER_NOT_FOUND' });
  t.same(await call(h, 'ejectPeer', { peerId: 'a' }), {});
  t.same(removed, ['a:ejected']);
  t.ok(await store.isEjected('s', 'jti-a'), 'the LiveStore remembers the invitation');
  t.same(audited, ['live.peer.ejected']);
});

t.test('recording: no recorder, a clear code; local recording only where the chair allows it', async (t) => {
  const { join, call, directory, room } = setUp();
  const h = join('h', 'host');
  const a = join('a', 'endpoint');
  await t.rejects(call(h, 'startRecording', {}), { code: 'RECORDING_UNAVAILABLE' });
  await t.rejects(call(a, 'startLocalRecording', {}), { code: 'LOCAL_RECORDING_FORBIDDEN' });
  directory.update('s', { participantRecordingAllowed: true });
  t.same(await call(a, 'startLocalRecording', {}), { recording: true });
  t.same(room.localRecordings(), [{ peerId: 'a', label: 'a', recording: true }]);
  t.same(await call(a, 'stopLocalRecording', {}), { recording: false });
});
