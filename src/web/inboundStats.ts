import type { types } from 'mediasoup-client';

/** The inbound-rtp fields tiepdan reads (both browsers report them; any may be missing). */
export interface InboundRtpStats {
  type: 'inbound-rtp';
  trackIdentifier?: string;
  mid?: string;
  packetsReceived?: number;
  packetsLost?: number;
  nackCount?: number;
  bytesReceived?: number;
  framesDecoded?: number;
}

function isInbound(s: unknown): s is InboundRtpStats {
  return typeof s === 'object' && s !== null && (s as { type?: unknown }).type === 'inbound-rtp';
}

/**
 * The inbound-rtp entries of many consumers from one getStats() of their receive transport, keyed
 * by consumer id. Why one: `consumer.getStats()` (RTCRtpReceiver.getStats) makes the browser
 * gather the whole connection's report and then filter it, so asking each of N consumers costs N
 * full reports. With a province's communes on the central point's page, its checks every two
 * seconds grew as N² (issue 14). A consumer is matched by its track's id (trackIdentifier), else
 * by its mid; one the report does not name (an older browser) is asked on its own, as before.
 */
export async function inboundStatsOf(transport: types.Transport | undefined, consumers: readonly types.Consumer[]): Promise<Map<string, InboundRtpStats[]>> {
  const out = new Map<string, InboundRtpStats[]>();
  const open = consumers.filter((c) => !c.closed);
  if (open.length === 0) return out;
  const byTrack = new Map<string, InboundRtpStats[]>();
  const byMid = new Map<string, InboundRtpStats[]>();
  if (transport !== undefined && !transport.closed) {
    try {
      (await transport.getStats()).forEach((s: unknown) => {
        if (!isInbound(s)) return;
        for (const [key, index] of [[s.trackIdentifier, byTrack], [s.mid, byMid]] as const) {
          if (key === undefined) continue;
          const list = index.get(key) ?? [];
          list.push(s);
          index.set(key, list);
        }
      });
    } catch {
      // The transport closed meanwhile: the consumers are asked on their own below (and fail alike).
    }
  }
  for (const c of open) {
    const found = byTrack.get(c.track.id) ?? (c.rtpParameters.mid === undefined ? undefined : byMid.get(c.rtpParameters.mid));
    if (found !== undefined) {
      out.set(c.id, found);
      continue;
    }
    try {
      const own: InboundRtpStats[] = [];
      (await c.getStats()).forEach((s: unknown) => {
        if (isInbound(s)) own.push(s);
      });
      out.set(c.id, own);
    } catch {
      // closed meanwhile: nothing to report
    }
  }
  return out;
}
