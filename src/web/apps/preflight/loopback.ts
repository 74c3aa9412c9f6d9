import { Device, type types } from 'mediasoup-client';
import { requestJson } from '../shared/http.ts';

export interface LoopbackResult {
  transport: 'udp' | 'tcp';
  connected: boolean;
  /** Whether both audio and video came back through the SFU. */
  mediaReturned: boolean;
  /** ICE round-trip time to the SFU, milliseconds (median of samples). */
  rttMs: number | null;
  /** Packets lost on the way there and back, percent. */
  lossPercent: number | null;
  /** Bitrate of the media that came back, kbit/s. */
  bitrateKbps: number | null;
  /** host/srflx/prflx/relay + protocol of the selected candidate pair, e.g. "udp", "tcp", "relay". */
  icePath: string | null;
  error?: string;
}

interface TransportParams {
  id: string;
  iceParameters: types.IceParameters;
  iceCandidates: types.IceCandidate[];
  dtlsParameters: types.DtlsParameters;
}

interface CreateAnswer {
  id: string;
  routerRtpCapabilities: types.RtpCapabilities;
  send: TransportParams;
  recv: TransportParams;
}

interface ProduceAnswer {
  producerId: string;
  consumer: { id: string; producerId: string; kind: 'audio' | 'video'; rtpParameters: types.RtpParameters };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function waitConnected(transport: types.Transport, timeoutMs: number): Promise<boolean> {
  if (transport.connectionState === 'connected') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    transport.on('connectionstatechange', (state) => {
      if (state === 'connected') {
        clearTimeout(timer);
        resolve(true);
      } else if (state === 'failed') {
        clearTimeout(timer);
        resolve(false);
      }
    });
  });
}

interface InboundTotals {
  bytes: number;
  packets: number;
  lost: number;
  audioBytes: number;
  videoBytes: number;
}

async function inboundTotals(transport: types.Transport): Promise<InboundTotals> {
  const stats = await transport.getStats();
  const totals: InboundTotals = { bytes: 0, packets: 0, lost: 0, audioBytes: 0, videoBytes: 0 };
  stats.forEach((s: Record<string, unknown>) => {
    if (s.type !== 'inbound-rtp') return;
    const bytes = Number(s.bytesReceived ?? 0);
    totals.bytes += bytes;
    totals.packets += Number(s.packetsReceived ?? 0);
    totals.lost += Math.max(0, Number(s.packetsLost ?? 0));
    if (s.kind === 'audio') totals.audioBytes += bytes;
    else totals.videoBytes += bytes;
  });
  return totals;
}

/** RTT and path of the selected ICE candidate pair of a transport. */
async function selectedPair(transport: types.Transport): Promise<{ rttMs: number | null; path: string | null }> {
  const stats = await transport.getStats();
  const byId = new Map<string, Record<string, unknown>>();
  stats.forEach((s: Record<string, unknown>) => byId.set(String(s.id), s));
  let pair: Record<string, unknown> | undefined;
  for (const s of byId.values()) {
    if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') pair = byId.get(s.selectedCandidatePairId);
  }
  if (!pair) for (const s of byId.values()) if (s.type === 'candidate-pair' && (s.selected === true || (s.nominated === true && s.state === 'succeeded'))) pair = s;
  if (!pair) return { rttMs: null, path: null };
  const local = byId.get(String(pair.localCandidateId));
  const rtt = typeof pair.currentRoundTripTime === 'number' ? Math.round(pair.currentRoundTripTime * 1000) : null;
  const candidateType = String(local?.candidateType ?? '');
  const protocol = String(local?.relayProtocol ?? local?.protocol ?? '');
  return { rttMs: rtt, path: candidateType === 'relay' ? `relay/${protocol}` : protocol || null };
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * Sends the camera and microphone to the SFU over one transport kind and receives them back,
 * measuring for `measureMs` once media flows. `onReturned` gets the stream that came back, for
 * the page to show ("this is what the central point sees").
 */
export async function runLoopback(options: {
  token: string;
  transport: 'udp' | 'tcp';
  stream: MediaStream;
  measureMs: number;
  connectTimeoutMs?: number;
  onReturned?: (stream: MediaStream) => void;
}): Promise<LoopbackResult> {
  const base = '/web/preflight/loopback';
  const call = <T>(method: string, path: string, body?: unknown) => requestJson<T>(method, `${base}${path}`, { token: options.token, body });
  const result: LoopbackResult = { transport: options.transport, connected: false, mediaReturned: false, rttMs: null, lossPercent: null, bitrateKbps: null, icePath: null };
  const created = await call<CreateAnswer>('POST', '', { transport: options.transport });
  const tracks: MediaStreamTrack[] = [];
  let send: types.Transport | undefined;
  let recv: types.Transport | undefined;
  try {
    const device = new Device();
    await device.load({ routerRtpCapabilities: created.routerRtpCapabilities });
    send = device.createSendTransport(created.send);
    recv = device.createRecvTransport(created.recv);
    const consumers: ProduceAnswer['consumer'][] = [];
    for (const transport of [send, recv]) {
      transport.on('connect', ({ dtlsParameters }, callback, errback) => {
        call('POST', `/${created.id}/connect`, { transportId: transport.id, dtlsParameters }).then(() => callback(), errback);
      });
    }
    send.on('produce', ({ kind, rtpParameters }, callback, errback) => {
      call<ProduceAnswer>('POST', `/${created.id}/produce`, { kind, rtpParameters, rtpCapabilities: device.recvRtpCapabilities }).then((answer) => {
        consumers.push(answer.consumer);
        callback({ id: answer.producerId });
      }, errback);
    });
    for (const track of options.stream.getTracks()) {
      const copy = track.clone(); // the preview keeps its own track
      tracks.push(copy);
      await send.produce({ track: copy, ...(copy.kind === 'video' ? { encodings: [{ maxBitrate: 900_000 }] } : {}) });
    }
    const returned = new MediaStream();
    for (const c of consumers) {
      const consumer = await recv.consume({ id: c.id, producerId: c.producerId, kind: c.kind, rtpParameters: c.rtpParameters });
      returned.addTrack(consumer.track);
      await call('POST', `/${created.id}/resume`, { consumerId: c.id });
    }
    options.onReturned?.(returned);
    const timeout = options.connectTimeoutMs ?? 15_000;
    const [sendUp, recvUp] = await Promise.all([waitConnected(send, timeout), waitConnected(recv, timeout)]);
    result.connected = sendUp && recvUp;
    if (!result.connected) return result;

    // Let the bandwidth estimate ramp up a little, then measure over a fixed window.
    await sleep(1500);
    const first = await inboundTotals(recv);
    const startedAt = performance.now();
    const rtts: number[] = [];
    while (performance.now() - startedAt < options.measureMs) {
      await sleep(500);
      const pair = await selectedPair(send);
      if (pair.rttMs !== null) rtts.push(pair.rttMs);
      result.icePath = pair.path ?? result.icePath;
    }
    const last = await inboundTotals(recv);
    const seconds = (performance.now() - startedAt) / 1000;
    result.mediaReturned = last.audioBytes > 0 && last.videoBytes > 0;
    result.bitrateKbps = Math.round(((last.bytes - first.bytes) * 8) / seconds / 1000);
    const packets = last.packets - first.packets;
    const lost = last.lost - first.lost;
    result.lossPercent = packets + lost > 0 ? Math.round((lost / (packets + lost)) * 1000) / 10 : null;
    result.rttMs = median(rtts);
    return result;
  } catch (err) {
    result.error = (err as Error).message;
    return result;
  } finally {
    for (const track of tracks) track.stop();
    send?.close();
    recv?.close();
    await call('DELETE', `/${created.id}`).catch(() => undefined);
  }
}

/** How a loopback measurement is judged (thresholds for a usable video session on commune links). */
export function judgeLoopback(r: LoopbackResult): 'pass' | 'warn' | 'fail' {
  if (!r.connected || !r.mediaReturned) return 'fail';
  const rtt = r.rttMs ?? 0;
  const loss = r.lossPercent ?? 0;
  const kbps = r.bitrateKbps ?? 0;
  if (rtt > 1000 || loss > 10 || kbps < 64) return 'fail';
  if (rtt > 300 || loss > 3 || kbps < 200) return 'warn';
  return 'pass';
}
