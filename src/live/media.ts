import type { types } from 'mediasoup';

import type { MediaTypes } from '../contract/signaling.ts';

export { MEDIA_SOURCES, type MediaSource } from '../contract/signalingConstants.ts';

/** The contract's media descriptions as mediasoup types them (the browser uses mediasoup-client's). */
export interface ServerMedia extends MediaTypes {
  rtpCapabilities: types.RtpCapabilities;
  rtpParameters: types.RtpParameters;
  iceParameters: types.IceParameters;
  iceCandidate: types.IceCandidate;
  dtlsParameters: types.DtlsParameters;
}

/**
 * Codecs every session router offers. H.264 comes in constrained baseline (42e01f) and baseline
 * (42001f): the hardware encoders of cheap commune PCs and some browsers only do these.
 */
export const SESSION_MEDIA_CODECS: types.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: { 'x-google-start-bitrate': 800 } },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1, 'x-google-start-bitrate': 800 },
  },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42001f', 'level-asymmetry-allowed': 1, 'x-google-start-bitrate': 800 },
  },
];

/**
 * Bitrates tuned for commune links (docs/commune-networks.md explains the figures):
 * - `initialOutgoing`: the SFU's first estimate of what it may send a viewer. A commune behind
 *   250–400 kbps that is first sent 1 Mbps overflows its modem's queue, loses packets and freezes
 *   for seconds until the estimate falls; starting near the middle layer's rate costs a LAN viewer
 *   only a second or two of ramp-up, which mediasoup's probing does by itself.
 * - `maxIncoming`: what one participant may send the SFU, the sum of its simulcast layers plus
 *   audio with some headroom; a camera pushing beyond that only fills the province's uplinks.
 */
export const MEDIA_BITRATES = {
  initialOutgoing: 600_000,
  maxIncoming: 1_600_000,
} as const;

/**
 * Picks the simulcast layer for a viewer's requested size. Layers are assumed to halve the
 * resolution each step down (the client library sends 1/4, 1/2, 1/1), the top layer being the
 * producer's announced size. Bandwidth is handled by mediasoup itself: it never sends more than
 * the estimate allows, this only caps what is worth sending.
 */
export function spatialLayerForSize(
  layerCount: number,
  top: { width: number; height: number } | undefined,
  view: { width: number; height: number },
): number {
  if (layerCount <= 1) return 0;
  const topHeight = top?.height ?? 720;
  for (let layer = 0; layer < layerCount; layer++) {
    const height = topHeight / 2 ** (layerCount - 1 - layer);
    // Accept a layer up to 10 % smaller than the view: the browser scales it up invisibly.
    if (height >= view.height * 0.9) return layer;
  }
  return layerCount - 1;
}
