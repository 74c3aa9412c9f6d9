import type { types } from 'mediasoup';
import { TiepdanError } from '../../errors.ts';

/**
 * The SDP FFmpeg reads to receive one consumer's RTP on 127.0.0.1:`port` (RTCP on port + 1,
 * where the consumer's sender reports arrive).
 */
export function sdpForConsumer(rtpParameters: types.RtpParameters, kind: types.MediaKind, port: number): string {
  const codec = rtpParameters.codecs.find((c) => !/\/(rtx|red|ulpfec)$/i.test(c.mimeType));
  if (!codec) throw new TiepdanError('RECORDING_CODEC_UNSUPPORTED', 'consumer has no media codec');
  const name = codec.mimeType.split('/')[1] ?? '';
  const rtpmap = codec.channels && codec.channels > 1 ? `${name}/${codec.clockRate}/${codec.channels}` : `${name}/${codec.clockRate}`;
  const fmtp = Object.entries(codec.parameters ?? {})
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(';');
  return [
    'v=0',
    'o=- 0 0 IN IP4 127.0.0.1',
    's=tiepdan-recorder',
    'c=IN IP4 127.0.0.1',
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
