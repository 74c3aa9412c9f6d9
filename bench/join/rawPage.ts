/**
 * Browser side of bench/join-vs-raw.ts for the raw reference (bench/raw/rawServer.ts): plain
 * mediasoup-client in the canonical mediasoup-demo order — capabilities, device, send and receive
 * transports, join; then produce while consumers are handled as they are announced. The same
 * simulcast encodings and codec options as src/web/LiveClient.ts (keep them in step).
 */
import { Device, type types } from 'mediasoup-client';
import { bench, localMedia, mark, timed, watchVideo } from './probe.ts';

type Reply = { id?: number; ok?: boolean; data?: unknown; error?: { message: string }; notification?: string };
type TransportInfo = { id: string; iceParameters: types.IceParameters; iceCandidates: types.IceCandidate[]; dtlsParameters: types.DtlsParameters };
type NewConsumer = { id: string; producerId: string; kind: 'audio' | 'video'; rtpParameters: types.RtpParameters; peerId: string };

async function benchJoin(options: { url: string }): Promise<void> {
  const stream = await localMedia();
  const ws = new WebSocket(options.url);
  const pending = new Map<number, { resolve: (d: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const request = <T>(method: string, data: object = {}): Promise<T> =>
    timed(method, new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (d: unknown) => void, reject });
      ws.send(JSON.stringify({ id, method, data }));
    }));
  let recv: types.Transport | undefined;
  const onNewConsumer = async (c: NewConsumer) => {
    mark('newConsumer');
    const consumer = await recv!.consume({ id: c.id, producerId: c.producerId, kind: c.kind, rtpParameters: c.rtpParameters });
    if (c.kind === 'video') {
      mark('track');
      watchVideo(consumer.track, c.peerId);
    }
    await request('resumeConsumer', { consumerId: consumer.id });
  };
  ws.addEventListener('message', (event) => {
    const msg = JSON.parse(String(event.data)) as Reply;
    if (msg.notification === 'newConsumer') {
      onNewConsumer(msg.data as NewConsumer).catch((err: unknown) => (bench.error = String(err)));
      return;
    }
    const p = msg.id === undefined ? undefined : pending.get(msg.id);
    if (p === undefined) return;
    pending.delete(msg.id!);
    if (msg.ok === true) p.resolve(msg.data);
    else p.reject(new Error(msg.error?.message ?? 'failed'));
  });
  await new Promise((resolve) => ws.addEventListener('open', resolve, { once: true }));
  bench.socketOpen = performance.now();

  const device = new Device();
  await device.load({ routerRtpCapabilities: await request<types.RtpCapabilities>('getRouterRtpCapabilities') });
  const transport = async (direction: 'send' | 'recv') => {
    const info = await request<TransportInfo>('createWebRtcTransport', { direction });
    const options = { id: info.id, iceParameters: info.iceParameters, iceCandidates: info.iceCandidates, dtlsParameters: info.dtlsParameters };
    const t = direction === 'send' ? device.createSendTransport(options) : device.createRecvTransport(options);
    t.on('connect', ({ dtlsParameters }, ok, fail) => {
      request('connectWebRtcTransport', { transportId: t.id, dtlsParameters }).then(() => ok(), fail);
    });
    t.on('produce', ({ kind, rtpParameters }, ok, fail) => {
      request<{ id: string }>('produce', { transportId: t.id, kind, rtpParameters }).then(ok, fail);
    });
    return t;
  };
  const send = await transport('send');
  recv = await transport('recv');
  await request('join', { rtpCapabilities: device.rtpCapabilities });
  mark('joinReply');
  const audio = stream.getAudioTracks()[0]!;
  const video = stream.getVideoTracks()[0]!;
  await send.produce({ track: audio, stopTracks: false, codecOptions: { opusNack: true, opusFec: true, opusDtx: true, opusStereo: false, opusMaxAverageBitrate: 32_000, opusPtime: 20 } });
  await send.produce({
    track: video,
    stopTracks: false,
    encodings: [
      { scaleResolutionDownBy: 4, maxBitrate: 130_000, scalabilityMode: 'L1T3' },
      { scaleResolutionDownBy: 2, maxBitrate: 450_000, scalabilityMode: 'L1T3' },
      { scaleResolutionDownBy: 1, maxBitrate: 1_000_000, scalabilityMode: 'L1T3' },
    ],
    codecOptions: { videoGoogleStartBitrate: 1000 },
  });
  mark('setupDone');
}

Object.assign(globalThis, {
  benchJoin: (options: { url: string }) => benchJoin(options).catch((err: unknown) => (bench.error = String(err))),
});
