/**
 * The reference for bench/join-vs-raw.ts: the smallest mediasoup SFU that does what a join needs,
 * in the canonical (mediasoup-demo) shape, so the benchmark can tell what tiepdan's own layers cost.
 * One worker of the same binary tiepdan runs, one WebRtcServer on 127.0.0.1, one router per room
 * (made on the first connection, as tiepdan makes its session router), the same codecs as
 * SESSION_MEDIA_CODECS, plain `ws`, requests handled as they come (no per-connection queue).
 *
 * Protocol (JSON frames): request `{id, method, data}` → `{id, ok, data | error}`; notification
 * `{notification, data}`. Methods: getRouterRtpCapabilities, createWebRtcTransport {direction},
 * join {rtpCapabilities} (consumers for what is already produced follow as `newConsumer`),
 * connectWebRtcTransport {transportId, dtlsParameters}, produce {transportId, kind, rtpParameters}
 * → {id} (the others get `newConsumer`), resumeConsumer {consumerId}. Consumers start paused; the
 * client resumes each once it has set it up. Rooms are chosen with `?room=<id>` on the socket URL.
 */
import { createServer, type Server } from 'node:http';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { WebSocketServer, type WebSocket } from 'ws';
import { SESSION_MEDIA_CODECS } from '../../src/live/media.ts';
import { freePortBlock } from '../../test/helpers/env.ts';

interface RawPeer {
  id: number;
  socket: WebSocket;
  joined: boolean;
  rtpCapabilities: types.RtpCapabilities | undefined;
  transports: Map<string, types.WebRtcTransport>;
  producers: Map<string, types.Producer>;
  consumers: Map<string, types.Consumer>;
}

interface RawRoom {
  router: Promise<types.Router>;
  peers: Set<RawPeer>;
}

export interface RawServer {
  wsUrl(room: string): string;
  close(): Promise<void>;
}

type Request = { id: number; method: string; data?: Record<string, unknown> };

/** Knobs that make the reference behave like tiepdan in one respect, to find what a gap comes from. */
export interface RawServerOptions {
  /** The SFU's first send estimate per viewer (default 1 Mbit/s, as mediasoup-demo). */
  initialOutgoingBitrate?: number;
  /** Run each connection's requests one at a time, in order (tiepdan's protocol guarantee). */
  serial?: boolean;
  /** Ask for a key frame after resuming a video consumer, and answer only then (as tiepdan). */
  keyFrameOnResume?: boolean;
}

export async function startRawServer(workerBin: string, options: RawServerOptions = {}): Promise<RawServer> {
  const worker = await mediasoup.createWorker({ workerBin, logLevel: 'warn', rtcMinPort: 40000, rtcMaxPort: 49999 });
  const port = await freePortBlock(1);
  const webRtcServer = await worker.createWebRtcServer({
    listenInfos: [
      { protocol: 'udp', ip: '127.0.0.1', port },
      { protocol: 'tcp', ip: '127.0.0.1', port },
    ],
  });
  const rooms = new Map<string, RawRoom>();
  let nextPeer = 1;

  const http: Server = createServer((_req, res) => {
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (socket, req) => {
    const roomId = new URL(req.url ?? '/', 'http://x').searchParams.get('room') ?? 'default';
    let room = rooms.get(roomId);
    if (room === undefined) {
      room = { router: worker.createRouter({ mediaCodecs: SESSION_MEDIA_CODECS }), peers: new Set() };
      rooms.set(roomId, room);
    }
    const peer: RawPeer = { id: nextPeer++, socket, joined: false, rtpCapabilities: undefined, transports: new Map(), producers: new Map(), consumers: new Map() };
    room.peers.add(peer);
    const theRoom = room;
    let queue: Promise<void> = Promise.resolve();
    socket.on('message', (raw) => {
      const request = JSON.parse(String(raw)) as Request;
      const run = () =>
        handle(theRoom, peer, request).then(
          (data) => send(peer, { id: request.id, ok: true, data: data ?? {} }),
          (err: unknown) => send(peer, { id: request.id, ok: false, error: { code: 'FAILED', message: (err as Error).message } }),
        );
      if (options.serial === true) queue = queue.then(run);
      else void run();
    });
    socket.on('close', () => {
      theRoom.peers.delete(peer);
      for (const t of peer.transports.values()) t.close();
      if (theRoom.peers.size === 0) {
        rooms.delete(roomId);
        void theRoom.router.then((r) => r.close());
      }
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = http.address();
  const httpPort = typeof address === 'object' && address !== null ? address.port : 0;

  async function handle(room: RawRoom, peer: RawPeer, { method, data = {} }: Request): Promise<unknown> {
    const router = await room.router;
    switch (method) {
      case 'getRouterRtpCapabilities':
        return router.rtpCapabilities;
      case 'createWebRtcTransport': {
        const transport = await router.createWebRtcTransport({
          webRtcServer,
          enableUdp: true,
          enableTcp: true,
          preferUdp: true,
          initialAvailableOutgoingBitrate: options.initialOutgoingBitrate ?? 1_000_000,
          appData: { direction: data.direction },
        });
        peer.transports.set(transport.id, transport);
        return { id: transport.id, iceParameters: transport.iceParameters, iceCandidates: transport.iceCandidates, dtlsParameters: transport.dtlsParameters };
      }
      case 'connectWebRtcTransport':
        await transportOf(peer, data.transportId).connect({ dtlsParameters: data.dtlsParameters as types.DtlsParameters });
        return {};
      case 'join':
        peer.rtpCapabilities = data.rtpCapabilities as types.RtpCapabilities;
        peer.joined = true;
        for (const other of room.peers) {
          if (other === peer) continue;
          for (const producer of other.producers.values()) void consume(router, peer, other, producer);
        }
        return {};
      case 'produce': {
        const producer = await transportOf(peer, data.transportId).produce({ kind: data.kind as types.MediaKind, rtpParameters: data.rtpParameters as types.RtpParameters });
        peer.producers.set(producer.id, producer);
        for (const other of room.peers) if (other !== peer && other.joined) void consume(router, other, peer, producer);
        return { id: producer.id };
      }
      case 'resumeConsumer': {
        const consumer = peer.consumers.get(String(data.consumerId));
        if (consumer === undefined) throw new Error('no such consumer');
        await consumer.resume();
        if (options.keyFrameOnResume === true && consumer.kind === 'video') await consumer.requestKeyFrame();
        return {};
      }
      default:
        throw new Error(`unknown method ${method}`);
    }
  }

  async function consume(router: types.Router, viewer: RawPeer, owner: RawPeer, producer: types.Producer): Promise<void> {
    const caps = viewer.rtpCapabilities;
    const transport = [...viewer.transports.values()].find((t) => t.appData.direction === 'recv');
    if (caps === undefined || transport === undefined || !router.canConsume({ producerId: producer.id, rtpCapabilities: caps })) return;
    // Paused until the client has it set up (it then asks to resume): no key frame goes missing.
    const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: caps, paused: true, enableRtx: true }).catch(() => undefined);
    if (consumer === undefined) return; // the viewer or the producer went meanwhile
    viewer.consumers.set(consumer.id, consumer);
    send(viewer, {
      notification: 'newConsumer',
      data: { id: consumer.id, producerId: producer.id, kind: consumer.kind, rtpParameters: consumer.rtpParameters, peerId: String(owner.id) },
    });
  }

  return {
    wsUrl: (room) => `ws://127.0.0.1:${httpPort}/?room=${encodeURIComponent(room)}`,
    async close() {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
      worker.close();
    },
  };
}

function transportOf(peer: RawPeer, id: unknown): types.WebRtcTransport {
  const t = peer.transports.get(String(id));
  if (t === undefined) throw new Error('no such transport');
  return t;
}

function send(peer: RawPeer, message: object): void {
  if (peer.socket.readyState === peer.socket.OPEN) peer.socket.send(JSON.stringify(message));
}
