import type { types } from 'mediasoup';
import type { MediaSource } from './media.ts';
import type { Peer } from './Peer.ts';

export interface PeerStats {
  peerId: string;
  /** Worst packet loss, in percent, on the media the peer sends (null before any stream reports). */
  lossPct: number | null;
  /** Round-trip time in ms between the SFU and the peer, from its receiver reports (null until one arrives). */
  rttMs: number | null;
  transports: {
    transportId: string;
    direction: 'send' | 'recv';
    iceState: types.IceState;
    dtlsState: types.DtlsState;
    protocol: string | undefined;
    bytesReceived: number;
    bytesSent: number;
    availableOutgoingBitrate: number | undefined;
  }[];
  producers: { producerId: string; kind: types.MediaKind; source: MediaSource; paused: boolean; score: number[]; byteCount: number; bitrate: number }[];
  consumers: {
    consumerId: string;
    producerId: string;
    kind: types.MediaKind;
    paused: boolean;
    producerPaused: boolean;
    score: number;
    currentLayers: types.ConsumerLayers | undefined;
    byteCount: number;
    bitrate: number;
  }[];
}

/** Statistics for technicians and the host: transports, producers and consumers of one peer. */
export async function peerStats(peer: Peer): Promise<PeerStats> {
  const transports = await Promise.all(
    [...peer.transports.values()].map(async (t) => {
      const s = (await t.getStats())[0];
      return {
        transportId: t.id,
        direction: t.appData.direction as 'send' | 'recv',
        iceState: t.iceState,
        dtlsState: t.dtlsState,
        protocol: t.iceSelectedTuple?.protocol,
        bytesReceived: s?.bytesReceived ?? 0,
        bytesSent: s?.bytesSent ?? 0,
        availableOutgoingBitrate: s?.availableOutgoingBitrate,
      };
    }),
  );
  // Link health for the console: the worst loss on what the peer sends us (RTCP-style 0–255
  // fraction from the receive streams) and the round-trip time its receiver reports give.
  let worstLost: number | null = null;
  const rtts: number[] = [];
  const producers = await Promise.all(
    [...peer.producers.values()].map(async ({ producer, source }) => {
      const stats = await producer.getStats();
      for (const s of stats) worstLost = Math.max(worstLost ?? 0, s.fractionLost);
      return {
        producerId: producer.id,
        kind: producer.kind,
        source,
        paused: producer.paused,
        score: producer.score.map((s) => s.score),
        byteCount: stats.reduce((n, s) => n + s.byteCount, 0),
        bitrate: stats.reduce((n, s) => n + s.bitrate, 0),
      };
    }),
  );
  const consumers = await Promise.all(
    [...peer.consumers.values()].map(async (c) => {
      const stats = await c.getStats();
      const outbound = stats.filter((s) => s.type === 'outbound-rtp');
      for (const s of outbound) if (typeof s.roundTripTime === 'number' && s.roundTripTime > 0) rtts.push(s.roundTripTime);
      return {
        consumerId: c.id,
        producerId: c.producerId,
        kind: c.kind,
        paused: c.paused,
        producerPaused: c.producerPaused,
        score: c.score.score,
        currentLayers: c.currentLayers,
        byteCount: outbound.reduce((n, s) => n + s.byteCount, 0),
        bitrate: outbound.reduce((n, s) => n + s.bitrate, 0),
      };
    }),
  );
  const lossPct = worstLost === null ? null : Math.round((worstLost / 256) * 1000) / 10;
  const rttMs = rtts.length === 0 ? null : Math.round(Math.max(...rtts));
  return { peerId: peer.id, lossPct, rttMs, transports, producers, consumers };
}
