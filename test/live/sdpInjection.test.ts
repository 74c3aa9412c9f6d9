/**
 * Security review M2: a participant's codec parameters and cname reach every viewer's SDP and the
 * recorder's FFmpeg SDP. The review's exact injection, sent over a real WebSocket to a real
 * server, is refused with INVALID_DATA; no producer is created, and the same connection and the
 * rest of the session keep working.
 */
import t from 'tap';
import { WsPeer, startLiveServer } from './liveHelpers.ts';

const opus = (patch: Record<string, unknown> = {}) => ({ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, ...patch });
const produceData = (transportId: unknown, rtpParameters: Record<string, unknown>) => ({ transportId, kind: 'audio', source: 'microphone', rtpParameters });

t.test('SDP injection through produce is refused; the server keeps serving', async (t) => {
  const live = await startLiveServer();
  t.teardown(() => live.stop());
  const sid = live.session({ endpointsSeeEachOther: true });
  const host = await WsPeer.open(live.wsUrl);
  t.equal((await host.join(sid, live.token(sid, 'host-1', 'host'))).ok, true);
  const attacker = await WsPeer.open(live.wsUrl);
  t.equal((await attacker.join(sid, live.token(sid, 'xa-a', 'endpoint'))).ok, true);
  const transport = await attacker.request('createTransport', { direction: 'send' });
  t.equal(transport.ok, true);
  const transportId = transport.data!.transportId;

  // Exactly the review's message: an injected m-section in a codec parameter, an a=ssrc line in the cname.
  const review = await attacker.request('produce', produceData(transportId, {
    codecs: [opus({ parameters: { useinbandfec: '1\r\nm=video 9 RTP/AVP 96\r\na=rtpmap:96 VP8/90000' } })],
    encodings: [{ ssrc: 11111111 }],
    rtcp: { cname: 'x\r\na=ssrc:1 cname:y' },
  }));
  t.equal(review.ok, false, 'the review’s produce is refused');
  t.equal(review.error?.code, 'INVALID_DATA');

  const attempts: [string, Record<string, unknown>][] = [
    ['CR/LF in a parameter value', { codecs: [opus({ parameters: { useinbandfec: '1\r\nm=video 9 RTP/AVP 96\r\na=rtpmap:96 VP8/90000' } })], encodings: [{ ssrc: 11111112 }] }],
    ['CR/LF in the cname', { codecs: [opus()], encodings: [{ ssrc: 11111113 }], rtcp: { cname: 'x\r\na=ssrc:1 cname:y' } }],
    ['a lone LF in a value', { codecs: [opus({ parameters: { stereo: '1\na=recvonly' } })], encodings: [{ ssrc: 11111114 }] }],
    ['a space in a value', { codecs: [opus({ parameters: { stereo: '1 x' } })], encodings: [{ ssrc: 11111115 }] }],
    ['a ";" smuggling another fmtp parameter', { codecs: [opus({ parameters: { useinbandfec: '1;stereo=0' } })], encodings: [{ ssrc: 11111116 }] }],
    ['CR/LF in a parameter name', { codecs: [opus({ parameters: { 'x\r\na=y': 1 } })], encodings: [{ ssrc: 11111117 }] }],
    ['a value over 64 characters', { codecs: [opus({ parameters: { useinbandfec: '1'.repeat(65) } })], encodings: [{ ssrc: 11111118 }] }],
    ['too many parameters', { codecs: [opus({ parameters: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`p${i}`, i])) })], encodings: [{ ssrc: 11111119 }] }],
    ['a space in the cname', { codecs: [opus()], encodings: [{ ssrc: 11111120 }], rtcp: { cname: 'a b' } }],
    ['CR/LF in the msid', { codecs: [opus()], encodings: [{ ssrc: 11111121 }], msid: 's t\r\na=x' }],
    ['CR/LF in a header-extension parameter', { codecs: [opus()], encodings: [{ ssrc: 11111122 }], headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 1, parameters: { x: '\r\n' } }] }],
    ['CR/LF in an rtcp-fb', { codecs: [opus({ rtcpFeedback: [{ type: 'nack\r\na=x' }] })], encodings: [{ ssrc: 11111123 }] }],
  ];
  for (const [what, rtpParameters] of attempts) {
    const r = await attacker.request('produce', produceData(transportId, rtpParameters));
    t.equal(r.error?.code, 'INVALID_DATA', what);
  }
  // The same rules hold for the capabilities a viewer announces.
  const caps = await attacker.request('setRtpCapabilities', { rtpCapabilities: { codecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, parameters: { useinbandfec: '1\r\nm=video 9' } }] } });
  t.equal(caps.error?.code, 'INVALID_DATA', 'capabilities with CR/LF in a parameter');

  const room = live.server.live.rooms.get(sid)!;
  t.same(room.producers(), [], 'no producer was created');
  t.equal(attacker.closeCode, undefined, 'the connection is still open');

  // What browsers really send still works on the same connection, and the host is unaffected.
  const good = await attacker.request('produce', produceData(transportId, {
    codecs: [opus({ parameters: { minptime: 10, useinbandfec: 1, 'sprop-stereo': 1 }, rtcpFeedback: [{ type: 'transport-cc', parameter: '' }] })],
    headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 4, encrypt: false, parameters: {} }],
    encodings: [{ ssrc: 22222222, dtx: false }],
    rtcp: { cname: 'Ab3+/xYz09==', reducedSize: true },
    msid: '{0f3c5e1a-7d8b-4e2f-9a61-3b5c7d9e1f20} {a1b2c3d4-0000-4000-8000-000000000001}',
    mid: '0',
  }));
  t.equal(good.ok, true, `a browser's produce is accepted (${good.error?.message ?? 'ok'})`);
  t.equal(room.producers().length, 1, 'and creates its producer');
  t.equal((await host.request('ping')).ok, true, 'the host is unaffected');
  t.equal(host.closeCode, undefined);
  t.ok(live.server.pool.allAlive, 'workers alive');
});
