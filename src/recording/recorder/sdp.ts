import type { types } from 'mediasoup';
import { TiepdanError } from '../../errors.ts';
import { isSafeSdpParameter } from '../../contract/sdpText.ts';

const isInt = (n: unknown, min: number, max: number): n is number => typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max;

/**
 * The SDP FFmpeg reads to receive one consumer's RTP on `port` (RTCP on port + 1), sent by
 * mediasoup from `senderIp`:`port` (security review L11: FFmpeg accepts nothing else).
 *
 * The codec parameters come from the producing participant (mediasoup copies them): the signaling
 * schema already refuses anything that is not SDP-safe, and this writer checks again, because SDP
 * has no escaping and a CR/LF here would rewrite FFmpeg's input (security review M2). An unsafe
 * parameter is left out (FFmpeg copies the RTP payload without it, so the track is still
 * recorded); an unsafe codec name, payload type, clock rate or port refuses the SDP.
 */
export function sdpForConsumer(rtpParameters: types.RtpParameters, kind: types.MediaKind, port: number, senderIp = '127.0.0.1'): string {
  const codec = rtpParameters.codecs.find((c) => !/\/(rtx|red|ulpfec)$/i.test(c.mimeType));
  if (!codec) throw new TiepdanError('RECORDING_CODEC_UNSUPPORTED', 'consumer has no media codec');
  const name = codec.mimeType.split('/')[1] ?? '';
  const safe =
    (kind === 'audio' || kind === 'video') &&
    /^[A-Za-z0-9_.-]{1,32}$/.test(name) &&
    isInt(codec.payloadType, 0, 127) &&
    isInt(codec.clockRate, 1, 10_000_000) &&
    (codec.channels === undefined || isInt(codec.channels, 1, 8)) &&
    isInt(port, 1, 65535) &&
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(senderIp);
  if (!safe) throw new TiepdanError('RECORDING_SDP_UNSAFE', 'the codec description of this consumer cannot be written into an SDP safely');
  const rtpmap = codec.channels && codec.channels > 1 ? `${name}/${codec.clockRate}/${codec.channels}` : `${name}/${codec.clockRate}`;
  const fmtp = Object.entries(codec.parameters ?? {})
    .filter(([k, v]) => isSafeSdpParameter(k, v))
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(';');
  return [
    'v=0',
    'o=- 0 0 IN IP4 127.0.0.1',
    's=tiepdan-recorder',
    // With -sdp_flags filter_src FFmpeg connect()s to this address and the m= port: the sender.
    `c=IN IP4 ${senderIp}`,
    't=0 0',
    `m=${kind} ${port} RTP/AVP ${codec.payloadType}`,
    `a=rtpmap:${codec.payloadType} ${rtpmap}`,
    ...(fmtp ? [`a=fmtp:${codec.payloadType} ${fmtp}`] : []),
    'a=recvonly',
    '',
  ].join('\n');
}

/** File extension FFmpeg's segment muxer writes for a codec: WebM for VP8/VP9/Opus, Matroska otherwise. */
export function codecName(rtpParameters: types.RtpParameters): string {
  const codec = rtpParameters.codecs[0];
  return (codec?.mimeType.split('/')[1] ?? 'unknown').toLowerCase();
}
