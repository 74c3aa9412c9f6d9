import t from 'tap';
import type { types } from 'mediasoup';
import { sdpForConsumer } from './sdp.ts';

/** Consumer parameters as mediasoup would hand them over, with `codec` merged into an Opus codec. */
function params(codec: Record<string, unknown> = {}, rest: Record<string, unknown> = {}): types.RtpParameters {
  return { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1, minptime: 10 }, rtcpFeedback: [], ...codec }], encodings: [{ ssrc: 1 }], ...rest } as types.RtpParameters;
}

t.test('a normal consumer gives a normal SDP', async (t) => {
  const sdp = sdpForConsumer(params(), 'audio', 40000);
  t.match(sdp, /^m=audio 40000 RTP\/AVP 100$/m);
  t.match(sdp, /^a=rtpmap:100 opus\/48000\/2$/m);
  t.match(sdp, /^a=fmtp:100 useinbandfec=1;minptime=10$/m);
  const h264 = sdpForConsumer(params({ mimeType: 'video/H264', payloadType: 102, clockRate: 90000, channels: undefined, parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f' } }), 'video', 40002);
  t.match(h264, /^a=fmtp:102 packetization-mode=1;profile-level-id=42e01f$/m);
});

t.test('hostile codec parameters never reach the SDP raw (security review M2)', async (t) => {
  // The review's injection, and its relatives: CR/LF, lone CR or LF, spaces, ';' smuggling, long and non-ASCII values, hostile keys.
  const hostile = {
    useinbandfec: '1\r\nm=video 9 RTP/AVP 96\r\na=rtpmap:96 VP8/90000',
    stereo: '1\na=recvonly',
    'sprop-stereo': '1\rx',
    maxplaybackrate: '48000 a=x',
    usedtx: '1;injected=1',
    cbr: 'x'.repeat(65),
    ptime: 'é',
    'bad key': 1,
    'k\r\nm=video 9 RTP/AVP 96': 1,
    'k=v': 1,
    minptime: 10,
  };
  const sdp = sdpForConsumer(params({ parameters: hostile }), 'audio', 40000);
  const lines = sdp.split('\n');
  t.equal(lines.filter((l) => l.startsWith('m=')).length, 1, 'one m-section only');
  t.notOk(/[\r]/.test(sdp), 'no CR anywhere');
  t.notOk(sdp.includes('VP8') || sdp.includes('injected') || sdp.includes('a=x'), 'nothing injected');
  t.equal(lines.find((l) => l.startsWith('a=fmtp:')), 'a=fmtp:100 minptime=10', 'only the safe parameter is written');
  t.same(lines.filter((l) => l.startsWith('a=')).map((l) => l.split(':')[0]), ['a=rtpmap', 'a=fmtp', 'a=recvonly'], 'the usual attributes and nothing else');
  t.notOk(sdpForConsumer(params({ parameters: { useinbandfec: '1\r\n' } }), 'audio', 40000).includes('a=fmtp'), 'no fmtp line when nothing is safe');
});

t.test('an unsafe codec name, payload type, clock rate, channel count or port refuses the SDP', async (t) => {
  const bad: [string, types.RtpParameters, string, number][] = [
    ['codec name with CR/LF', params({ mimeType: 'audio/opus\r\nm=video 9 RTP/AVP 96' }), 'audio', 40000],
    ['codec name with a space', params({ mimeType: 'audio/op us' }), 'audio', 40000],
    ['payload type as text', params({ payloadType: '100\r\na=x' }), 'audio', 40000],
    ['payload type out of range', params({ payloadType: 300 }), 'audio', 40000],
    ['clock rate as text', params({ clockRate: '48000 x' }), 'audio', 40000],
    ['fractional channels', params({ channels: 1.5 }), 'audio', 40000],
    ['bad kind', params(), 'audio\r\nm=video', 40000],
    ['bad port', params(), 'audio', 70000],
  ];
  for (const [what, p, kind, port] of bad) t.throws(() => sdpForConsumer(p, kind as types.MediaKind, port), { code: 'RECORDING_SDP_UNSAFE' }, what);
  t.throws(() => sdpForConsumer(params({ mimeType: 'audio/rtx' }), 'audio', 40000), { code: 'RECORDING_CODEC_UNSUPPORTED' }, 'no media codec is still its own error');
});
