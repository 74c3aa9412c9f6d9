/**
 * Admission over /ws with Node's `ws`: invitation tokens are bound to one session, one participant
 * and one role and expire; refused joins get their code and the socket closes; roles limit what a
 * peer may do; a lobby holds joiners until the host admits them; the same invitation joining again
 * from the same tab (its resume secret) replaces the first connection (no ghost peer).
 */
import t from 'tap';
import { TokenSigner } from '../../src/tokens/tokenSigner.ts';
import { WsPeer, staffClient, startLiveServer, until } from './liveHelpers.ts';

t.test('admission, roles, lobby and replacement', async (t) => {
  const live = await startLiveServer();
  t.teardown(() => live.stop());
  const sid = live.session({ maxPeers: 4 });
  const other = live.session();

  const refused = async (name: string, join: (p: WsPeer) => Promise<{ error?: { code: string } }>, code: string) => {
    const p = await WsPeer.open(live.wsUrl);
    const reply = await join(p);
    t.equal(reply.error?.code, code, `${name}: ${code}`);
    t.equal(await p.closed, 4401, `${name}: socket closed after the refusal`);
  };
  await refused('expired token', (p) => p.join(sid, live.token(sid, 'a', 'endpoint', { now: new Date(Date.now() - 7200_000), ttlSeconds: 60 })), 'TOKEN_EXPIRED');
  await refused('token of another session', (p) => p.join(sid, live.token(other, 'a', 'endpoint')), 'TOKEN_WRONG_SESSION');
  await refused('made-up token', (p) => p.join(sid, 'td1.eyJmYWtlIjp0cnVlfQ.bm90LWEtc2lnbmF0dXJl'), 'TOKEN_INVALID');
  const foreignKey = new TokenSigner(Buffer.alloc(32, 7)).issue({ kind: 'invitation', sessionId: sid, subject: 'a', role: 'host', ttlSeconds: 60 }).token;
  await refused('token signed with another key', (p) => p.join(sid, foreignKey), 'TOKEN_INVALID');
  const userToken = live.server.live.tokens.issue({ kind: 'user', subject: 'u', role: 'host', ttlSeconds: 60 }).token;
  await refused('user token instead of an invitation', (p) => p.join(sid, userToken), 'TOKEN_INVALID');
  const revoked = live.server.live.tokens.issue({ kind: 'invitation', sessionId: sid, subject: 'r', role: 'endpoint', ttlSeconds: 60 });
  live.directory.revoke(revoked.claims.jti);
  await refused('revoked token', (p) => p.join(sid, revoked.token), 'TOKEN_REVOKED');
  await refused('unknown session', (p) => p.join('nope', live.token('nope', 'a', 'endpoint')), 'SESSION_NOT_FOUND');
  const draft = live.session({ admission: 'not_open' });
  await refused('session not open', (p) => p.join(draft, live.token(draft, 'a', 'endpoint')), 'SESSION_NOT_OPEN');
  const over = live.session({ admission: 'ended' });
  await refused('ended session', (p) => p.join(over, live.token(over, 'a', 'endpoint')), 'SESSION_ENDED');
  await refused('old protocol version', (p) => p.request('join', { protocolVersion: 0, sessionId: sid, token: live.token(sid, 'a', 'endpoint') }), 'PROTOCOL_VERSION_UNSUPPORTED');

  // Before joining, nothing else is allowed.
  const early = await WsPeer.open(live.wsUrl);
  t.equal((await early.request('createTransport', { direction: 'send' })).error?.code, 'NOT_JOINED');
  early.close();

  // A host, an observer, a technician.
  const host = await WsPeer.open(live.wsUrl);
  const hostJoin = await host.join(sid, live.token(sid, 'host-1', 'host'));
  t.equal(hostJoin.ok, true, 'host joins');
  t.match(hostJoin.data, { peerId: 'host-1', role: 'host', admitted: true, resumed: false, protocolVersion: 1 });
  t.ok((hostJoin.data?.routerRtpCapabilities as { codecs: { mimeType: string }[] }).codecs.some((c) => c.mimeType === 'video/H264'), 'router offers H.264');
  t.equal((await host.request('join', { protocolVersion: 1, sessionId: sid, token: live.token(sid, 'host-1', 'host') })).error?.code, 'ALREADY_JOINED');

  const observer = await WsPeer.open(live.wsUrl);
  t.equal((await observer.join(sid, live.token(sid, 'obs', 'observer'))).ok, true);
  t.equal((await observer.request('createTransport', { direction: 'send' })).error?.code, 'FORBIDDEN', 'observer cannot get a send transport');
  const recv = await observer.request('createTransport', { direction: 'recv' });
  t.equal(recv.ok, true, 'observer may receive');
  const produce = await observer.request('produce', {
    transportId: recv.data?.transportId,
    kind: 'audio',
    source: 'microphone',
    rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 1 }] },
  });
  t.equal(produce.error?.code, 'FORBIDDEN', 'observer cannot produce');
  t.equal((await observer.request('mutePeer', { peerId: 'host-1', kind: 'audio' })).error?.code, 'FORBIDDEN', 'observer cannot mute');
  t.equal((await observer.request('getStats', { peerId: 'host-1' })).error?.code, 'FORBIDDEN', "observer cannot read others' stats");

  const tech = await WsPeer.open(live.wsUrl);
  t.equal((await tech.join(sid, live.token(sid, 'tech', 'technician'))).ok, true);
  t.equal((await tech.request('createTransport', { direction: 'recv' })).error?.code, 'FORBIDDEN', 'technician gets no media');
  const stats = await tech.request('getStats', { peerId: 'obs' });
  t.equal(stats.ok, true, 'technician reads stats of any peer');
  t.equal((stats.data?.transports as unknown[]).length, 1);

  await host.waitFor('peerJoined', (d) => d.peerId === 'tech');
  // One place left of four: a fifth is refused.
  const e1 = await WsPeer.open(live.wsUrl);
  const e1Joined = await e1.join(sid, live.token(sid, 'xa-a', 'endpoint'));
  t.equal(e1Joined.ok, true);
  t.match(e1Joined.data?.resumeSecret, /^[A-Za-z0-9_-]{16,128}$/, 'the first join gets the seat’s resume secret');
  await refused('full session', (p) => p.join(sid, live.token(sid, 'xa-b', 'endpoint')), 'SESSION_FULL');

  // The same invitation again from the same tab (a reload, proven by the resume secret): the new
  // connection replaces the old, no ghost.
  const tokenA = live.token(sid, 'xa-a', 'endpoint');
  const e1again = await WsPeer.open(live.wsUrl);
  const rejoined = await e1again.join(sid, tokenA, { resumeSecret: e1Joined.data?.resumeSecret });
  t.equal(rejoined.ok, true, 'the second connection of the same participant is admitted');
  t.equal(await e1.closed, 4001, 'the first connection is closed as replaced');
  t.ok(e1.notifications.some((n) => n.notification === 'kicked' && n.data.reason === 'replaced'));
  const room = live.server.live.rooms.get(sid)!;
  t.equal(room.peers().filter((p) => p.id === 'xa-a').length, 1, 'still one xa-a');
  t.equal(room.peers().length, 4);
  t.notOk(host.notifications.some((n) => n.notification === 'peerLeft'), 'the host saw nobody leave');

  // Leave: others are told at once.
  const left = await e1again.request('leave');
  t.equal(left.ok, true);
  t.equal(await e1again.closed, 4000);
  const gone = await host.waitFor('peerLeft', (d) => d.peerId === 'xa-a');
  t.equal(gone.reason, 'left');

  // The host ends the session: everyone is told and disconnected; nobody can join again.
  t.equal((await host.request('endSession')).ok, true);
  t.equal(await observer.closed, 4003);
  t.ok(observer.notifications.some((n) => n.notification === 'sessionState' && n.data.state === 'ended'));
  t.equal(await host.closed, 4003);
  await until('room gone', () => live.server.live.rooms.get(sid) === undefined);
  await refused('after the end', (p) => p.join(sid, live.token(sid, 'xa-a', 'endpoint')), 'SESSION_ENDED');
});

t.test('lobby: joiners wait until the host admits them', async (t) => {
  const live = await startLiveServer();
  t.teardown(() => live.stop());
  const sid = live.session({ lobbyEnabled: true });
  const host = await WsPeer.open(live.wsUrl);
  await host.join(sid, live.token(sid, 'host-1', 'host'));
  const e = await WsPeer.open(live.wsUrl);
  const joined = await e.join(sid, live.token(sid, 'xa-a', 'endpoint'));
  t.equal(joined.data?.admitted, false, 'the endpoint waits in the lobby');
  t.same(joined.data?.peers, [], 'and sees nobody yet');
  const lobby = await host.waitFor('lobby', (d) => (d.waiting as unknown[]).length === 1);
  t.match(lobby.waiting, [{ peerId: 'xa-a', role: 'endpoint' }], 'the host sees who waits');
  t.equal((await e.request('createTransport', { direction: 'send' })).error?.code, 'IN_LOBBY');
  t.equal((await e.request('admitPeer', { peerId: 'xa-a' })).error?.code, 'FORBIDDEN', 'nobody admits themself');
  t.equal((await host.request('admitPeer', { peerId: 'xa-a' })).ok, true);
  await e.waitFor('admitted');
  await host.waitFor('peerJoined', (d) => d.peerId === 'xa-a');
  t.equal((await e.request('createTransport', { direction: 'send' })).ok, true, 'admitted: media allowed');

  // The control API ends the session from outside.
  t.equal(live.server.live.signaling.endSession(sid), true);
  t.equal(await e.closed, 4003, 'participants are disconnected');
  t.ok(e.notifications.some((n) => n.notification === 'kicked' && n.data.reason === 'ended'));
  const late = await WsPeer.open(live.wsUrl);
  t.equal((await late.join(sid, live.token(sid, 'xa-b', 'endpoint'))).error?.code, 'SESSION_ENDED');
});

t.test('dev session route: makes a session and invitation tokens', async (t) => {
  const live = await startLiveServer();
  t.teardown(() => live.stop());
  // A staff route like any other (the one access hook): a technician's login, never anonymous.
  const staff = staffClient(live.server, 'dev');
  await staff.addUser('technician');
  const auth = { authorization: `Bearer ${staff.users.technician!.token}` };
  const anonymous = await fetch(`${live.server.url}/api/v1/live/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ participants: [{ subject: 'x', role: 'host' }] }) });
  t.same([anonymous.status, ((await anonymous.json()) as { code: string }).code], [401, 'AUTH_REQUIRED'], 'no credentials: no session, no tokens');
  const res = await fetch(`${live.server.url}/api/v1/live/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth },
    body: JSON.stringify({ title: 'Tiếp công dân tháng 12', participants: [{ subject: 'host-1', role: 'host' }, { subject: 'xa-a', role: 'endpoint', displayName: 'UBND xã A' }] }),
  });
  t.equal(res.status, 201);
  const body = (await res.json()) as { sessionId: string; participants: { subject: string; token: string; joinPath: string }[] };
  t.equal(body.participants.length, 2);
  t.match(body.participants[1]!.joinPath, /^\/live\/test\.html#session=/, 'the token travels in the URL fragment');
  const p = await WsPeer.open(live.wsUrl);
  const joined = await p.join(body.sessionId, body.participants[1]!.token);
  t.match(joined.data, { peerId: 'xa-a', label: 'UBND xã A', role: 'endpoint' });
  const bad = await fetch(`${live.server.url}/api/v1/live/sessions`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ participants: [{ subject: 'x', role: 'king' }] }) });
  t.equal(bad.status, 400);
  t.equal(((await bad.json()) as { code: string }).code, 'VALIDATION_FAILED');
  const page = await fetch(`${live.server.url}/live/client.js`);
  t.equal(page.status, 200);
  t.ok((await page.text()).length > 10000, 'the client library bundle is served');
});

t.test('recording requests reach the recording policy; every peer learns the state (stand-in recorder)', async (t) => {
  const live = await startLiveServer();
  t.teardown(() => live.stop());
  const sid = live.session();
  const host = await WsPeer.open(live.wsUrl);
  await host.join(sid, live.token(sid, 'host-1', 'host'));
  const e = await WsPeer.open(live.wsUrl);
  await e.join(sid, live.token(sid, 'xa-a', 'endpoint'));
  // The server wires its real recorder (test/live/recording-bridge.test.ts); without one, a clear code.
  live.server.live.recording.recorder = undefined;
  t.equal((await host.request('startRecording')).error?.code, 'RECORDING_UNAVAILABLE', 'no recorder wired: a clear code');
  // A stand-in recorder: this test is about the signaling seam (who may ask, who is told).
  const calls: string[] = [];
  live.server.live.recording.recorder = {
    async startRecording(session) {
      calls.push(`start ${session.id}`);
    },
    async stopRecording(sessionId) {
      calls.push(`stop ${sessionId}`);
    },
    liveState: () => null,
  };
  t.equal((await e.request('startRecording')).error?.code, 'FORBIDDEN', 'an endpoint cannot start the recording');
  t.same((await host.request('startRecording')).data, { recording: true });
  const state = await e.waitFor('sessionState', (d) => d.recording === true);
  t.same(state, { state: 'live', recording: true }, 'the endpoint sees "recording on"');
  live.server.live.rooms.get(sid)!.recordingWarning(123_000_000);
  t.same(await host.waitFor('recordingWarning'), { freeBytes: 123_000_000 }, 'the host is warned');
  t.notOk(e.notifications.some((n) => n.notification === 'recordingWarning'), 'endpoints are not');
  t.same((await host.request('stopRecording')).data, { recording: false });
  await e.waitFor('sessionState', (d) => d.recording === false);
  t.same(calls, [`start ${sid}`, `stop ${sid}`]);
});

t.test('closing a producer or a transport cascades to the viewers\' consumers', async (t) => {
  const live = await startLiveServer();
  t.teardown(() => live.stop());
  const sid = live.session();
  const host = await WsPeer.open(live.wsUrl);
  const hostJoin = await host.join(sid, live.token(sid, 'host-1', 'host'));
  const viewer = await WsPeer.open(live.wsUrl);
  await viewer.join(sid, live.token(sid, 'obs', 'observer'));
  await viewer.request('createTransport', { direction: 'recv' });
  t.equal((await viewer.request('setRtpCapabilities', { rtpCapabilities: hostJoin.data!.routerRtpCapabilities })).ok, true);
  const send = await host.request('createTransport', { direction: 'send' });
  const opus = (ssrc: number) => ({ codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }], encodings: [{ ssrc }] });
  const p1 = await host.request('produce', { transportId: send.data!.transportId, kind: 'audio', source: 'microphone', rtpParameters: opus(11) });
  const c1 = await viewer.waitFor('newConsumer', (d) => d.producerId === p1.data!.producerId);
  t.match(c1, { peerId: 'host-1', kind: 'audio', source: 'microphone' }, 'the viewer is offered the new producer');
  t.equal((await viewer.request('resumeConsumer', { consumerId: c1.consumerId })).ok, true, 'and resumes it');
  t.equal((await host.request('pauseProducer', { producerId: p1.data!.producerId })).ok, true);
  await viewer.waitFor('consumerPaused', (d) => d.consumerId === c1.consumerId);
  t.equal((await host.request('resumeProducer', { producerId: p1.data!.producerId })).ok, true);
  await viewer.waitFor('consumerResumed', (d) => d.consumerId === c1.consumerId);
  t.equal((await host.request('closeProducer', { producerId: p1.data!.producerId })).ok, true);
  await viewer.waitFor('consumerClosed', (d) => d.consumerId === c1.consumerId);
  t.pass('closing the producer closed the viewer\'s consumer');
  t.equal((await host.request('pauseProducer', { producerId: p1.data!.producerId })).error?.code, 'PRODUCER_NOT_FOUND');

  const p2 = await host.request('produce', { transportId: send.data!.transportId, kind: 'audio', source: 'microphone', rtpParameters: opus(12) });
  const c2 = await viewer.waitFor('newConsumer', (d) => d.producerId === p2.data!.producerId);
  t.equal((await host.request('produce', { transportId: send.data!.transportId, kind: 'audio', source: 'microphone', rtpParameters: opus(13) })).error?.code, 'SOURCE_IN_USE');
  t.equal((await host.request('closeTransport', { transportId: send.data!.transportId })).ok, true);
  await viewer.waitFor('consumerClosed', (d) => d.consumerId === c2.consumerId);
  t.pass('closing the transport closed its producer and the viewer\'s consumer');
  t.equal(live.server.live.rooms.get(sid)!.producers().length, 0, 'no producer left for the recorder');
});
