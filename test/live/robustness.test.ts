/**
 * Protocol robustness: hundreds of malformed, oversized, out-of-order, unknown and unauthorised
 * messages, each answered with an error code; the server keeps serving the other peers of the
 * session, whose media requests still work.
 */
import t from 'tap';
import { SIGNALING_ERROR_CODES as ERROR_CODES } from '../../src/contract/signaling.ts';
import { WsPeer, startLiveServer, until, type Reply } from './liveHelpers.ts';

t.test('every bad message gets an error reply; nothing else is affected', async (t) => {
  const live = await startLiveServer();
  t.teardown(() => live.stop());
  const sid = live.session({ endpointsSeeEachOther: true });
  const host = await WsPeer.open(live.wsUrl);
  t.equal((await host.join(sid, live.token(sid, 'host-1', 'host'))).ok, true);
  const attacker = await WsPeer.open(live.wsUrl);
  t.equal((await attacker.join(sid, live.token(sid, 'xa-a', 'endpoint'))).ok, true);

  const bad: (string | Buffer)[] = [];
  const json = (v: unknown) => bad.push(JSON.stringify(v));
  // Not JSON at all, and JSON that is not a request.
  for (let i = 0; i < 40; i++) bad.push(['{', 'null}', '}{', 'undefined', '\u0000\u0001', `{"id":${i},`, 'NaN', "{'id':1}"][i % 8]! + ' '.repeat(i));
  for (const v of [null, 1, 'x', true, [], [1, 2], {}, { id: 'one', method: 'ping' }, { id: -1, method: 'ping' }, { id: 1.5, method: 'ping' }, { id: 2 ** 40, method: 'ping' }, { method: 'ping' }, { id: 1 }, { id: 1, method: '' }, { id: 1, method: 5 }, { id: 1, method: 'ping', data: [] }, { id: 1, method: 'ping', data: 'x' }, { id: 1, method: 'ping', extra: 1 }]) {
    for (let i = 0; i < 5; i++) json(v);
  }
  // Unknown methods, including prototype names.
  for (const m of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'produceEverything', 'JOIN', 'join ', 'x'.repeat(64), 'admin', 'eval']) {
    for (let i = 0; i < 4; i++) json({ id: 1000 + i, method: m, data: {} });
  }
  // Known methods with invalid data.
  const invalid: [string, unknown][] = [
    ['createTransport', { direction: 'sideways' }],
    ['createTransport', { direction: 'send', forceTcp: 'yes' }],
    ['connectTransport', { transportId: 'x' }],
    ['connectTransport', { transportId: 'x', dtlsParameters: { fingerprints: [] } }],
    ['connectTransport', { transportId: 'x', dtlsParameters: { fingerprints: [{ algorithm: 'md5', value: 'a' }] } }],
    ['produce', { transportId: 'x', kind: 'smell', source: 'camera', rtpParameters: { codecs: [] } }],
    ['produce', { transportId: 'x', kind: 'video', source: 'camera', rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: 999, clockRate: 90000 }] } }],
    ['produce', { transportId: 'x', kind: 'video', source: 'camera', rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 }], encodings: new Array(9).fill({ ssrc: 1 }) } }],
    ['setRtpCapabilities', { rtpCapabilities: { codecs: [{ kind: 'smell' }] } }],
    ['setRtpCapabilities', { rtpCapabilities: 'all of them' }],
    ['resumeConsumer', { consumerId: 5 }],
    ['setConsumerPreferredLayers', { consumerId: 'x', spatialLayer: 99 }],
    ['setConsumerViewSize', { consumerId: 'x', width: -1, height: 1 }],
    ['mutePeer', { peerId: 'host-1', kind: 'smell' }],
    ['getStats', { peerId: '' }],
    ['join', { protocolVersion: 'one' }],
  ];
  for (const [method, data] of invalid) for (let i = 0; i < 4; i++) json({ id: 2000 + i, method, data });
  // Valid shape, wrong order or wrong target: unknown transports, producers, consumers, peers; moderation without the role.
  const outOfOrder: [string, unknown][] = [
    ['connectTransport', { transportId: 'nope', dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AA:BB' }] } }],
    ['restartIce', { transportId: 'nope' }],
    ['closeTransport', { transportId: 'nope' }],
    ['produce', { transportId: 'nope', kind: 'audio', source: 'microphone', rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }] } }],
    ['pauseProducer', { producerId: 'nope' }],
    ['resumeProducer', { producerId: 'nope' }],
    ['closeProducer', { producerId: 'nope' }],
    ['pauseConsumer', { consumerId: 'nope' }],
    ['resumeConsumer', { consumerId: 'nope' }],
    ['setConsumerPreferredLayers', { consumerId: 'nope', spatialLayer: 1 }],
    ['setConsumerViewSize', { consumerId: 'nope', width: 320, height: 180 }],
    ['getStats', { peerId: 'host-1' }],
    ['mutePeer', { peerId: 'host-1', kind: 'audio' }],
    ['ejectPeer', { peerId: 'host-1' }],
    ['admitPeer', { peerId: 'host-1' }],
    ['endSession', {}],
    ['join', { protocolVersion: 1, sessionId: sid, token: live.token(sid, 'xa-a', 'endpoint') }],
  ];
  for (const [method, data] of outOfOrder) for (let i = 0; i < 4; i++) json({ id: 3000 + i, method, data });
  // Binary frames and oversized messages.
  for (let i = 0; i < 5; i++) bad.push(Buffer.from([0, 1, 2, 3, i]));
  for (let i = 0; i < 3; i++) bad.push(JSON.stringify({ id: 4000 + i, method: 'ping', data: { pad: 'x'.repeat(66_000) } })); // over 64 KiB, under maxPayload (72 KiB)

  t.ok(bad.length >= 300, `${bad.length} bad messages`);
  // In batches below the burst allowance, so each gets its specific error (not RATE_LIMITED).
  for (let i = 0; i < bad.length; i += 100) {
    const batch = bad.slice(i, i + 100);
    const expected = attacker.replies.length + batch.length;
    for (const m of batch) attacker.ws.send(m, { binary: Buffer.isBuffer(m) });
    await until(`replies to batch ${i / 100}`, () => attacker.replies.length >= expected, 30000);
    await new Promise((r) => setTimeout(r, 2200)); // let the rate bucket refill
  }
  t.equal(attacker.replies.length, bad.length + 1, 'one reply per message (plus the join)');
  const errors = attacker.replies.slice(1);
  t.ok(errors.every((r) => r.ok === false), 'every reply is an error');
  const codes = new Set(errors.map((r) => r.error!.code));
  t.ok([...codes].every((c) => (ERROR_CODES as readonly string[]).includes(c)), `only documented codes: ${[...codes].join(', ')}`);
  for (const c of ['BAD_JSON', 'BAD_MESSAGE', 'UNKNOWN_METHOD', 'INVALID_DATA', 'MESSAGE_TOO_LARGE', 'TRANSPORT_NOT_FOUND', 'PRODUCER_NOT_FOUND', 'CONSUMER_NOT_FOUND', 'FORBIDDEN', 'ALREADY_JOINED']) {
    t.ok(codes.has(c), `answers include ${c}`);
  }
  t.notOk(codes.has('INTERNAL'), 'no internal errors');
  t.equal(attacker.closeCode, undefined, 'the misbehaving connection is still open');
  t.equal((await attacker.request('ping')).ok, true, 'and still answers');

  // A flood beyond the rate limit: answered with RATE_LIMITED, the connection survives.
  const before = attacker.replies.length;
  for (let i = 0; i < 600; i++) attacker.ws.send(JSON.stringify({ id: 5000 + i, method: 'ping', data: {} }));
  await until('flood replies', () => attacker.replies.length >= before + 600, 30000);
  const flood = attacker.replies.slice(before);
  const limited = flood.filter((r: Reply) => r.error?.code === 'RATE_LIMITED').length;
  t.ok(limited > 0 && limited < 600, `${limited} of 600 flood messages rate-limited, the rest answered`);

  // A socket that sends garbage before joining is answered too, and never reaches a session.
  const stranger = await WsPeer.open(live.wsUrl);
  stranger.ws.send('garbage');
  t.equal((await stranger.request('produce', { transportId: 'x', kind: 'audio', source: 'microphone', rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000 }] } })).error?.code, 'NOT_JOINED');
  t.equal((await stranger.request('mutePeer', { peerId: 'host-1', kind: 'audio' })).error?.code, 'NOT_JOINED');

  // The host was never affected and its media requests still work.
  t.equal(host.closeCode, undefined, 'host still connected');
  t.notOk(host.notifications.some((n) => n.notification === 'peerLeft' || n.notification === 'kicked'), 'the host saw nothing odd');
  const transport = await host.request('createTransport', { direction: 'send' });
  t.equal(transport.ok, true, 'host can still create a transport');
  const produced = await host.request('produce', {
    transportId: transport.data!.transportId,
    kind: 'audio',
    source: 'microphone',
    rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 1234 }] },
  });
  t.equal(produced.ok, true, 'and produce');
  const room = live.server.live.rooms.get(sid)!;
  t.equal(room.peers().length, 2, 'both peers still in the session');
  t.ok(live.server.pool.allAlive, 'workers alive');

  // Beyond maxPayload (72 KiB, L7): ws itself refuses (1009) and only that socket closes.
  const huge = await WsPeer.open(live.wsUrl);
  huge.ws.send('x'.repeat(2 * 1024 * 1024));
  t.equal(await huge.closed, 1009, 'a 2 MiB frame closes only its own socket');
  t.equal((await host.request('ping')).ok, true, 'host unaffected');
});
