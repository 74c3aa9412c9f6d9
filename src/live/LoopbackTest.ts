import { randomUUID } from 'node:crypto';
import type { types } from 'mediasoup';
import { TiepdanError } from '../errors.ts';
import type { WorkerPool } from '../sfu/WorkerPool.ts';
import { SESSION_MEDIA_CODECS } from './media.ts';

export interface LoopbackTransport {
  id: string;
  iceParameters: types.IceParameters;
  iceCandidates: types.IceCandidate[];
  dtlsParameters: types.DtlsParameters;
}

export interface LoopbackStats {
  iceState: types.IceState;
  dtlsState: types.DtlsState;
  protocol: string | null;
  sendBitrate: number;
  recvBitrate: number;
}

/**
 * One pre-flight loopback: a router of its own on the least-loaded worker, a send and a receive
 * transport on the same WebRtcServer ports a real session uses (so a firewall that blocks the
 * session blocks the test too), and for every producer a consumer of it on the receive transport:
 * the endpoint gets its own picture and sound back through the SFU and measures the path.
 * The HTTP routes are api/web/loopbackPlugin.ts.
 */
export class LoopbackTest {
  readonly id = randomUUID();
  readonly owner: string;
  readonly router: types.Router;
  readonly send: types.WebRtcTransport;
  readonly recv: types.WebRtcTransport;
  readonly #pool: WorkerPool;
  readonly producers = new Map<string, types.Producer>();
  /** Kinds with a producer made or being made: taken before the first await of a produce request. */
  readonly sending = new Set<types.MediaKind>();
  readonly consumers = new Map<string, types.Consumer>();
  readonly #timer: NodeJS.Timeout;
  #onClose: () => void;
  closed = false;

  private constructor(pool: WorkerPool, owner: string, router: types.Router, send: types.WebRtcTransport, recv: types.WebRtcTransport, maxMs: number, onClose: () => void) {
    this.#pool = pool;
    this.owner = owner;
    this.router = router;
    this.send = send;
    this.recv = recv;
    this.#onClose = onClose;
    this.#timer = setTimeout(() => this.close(), maxMs);
    this.#timer.unref();
    router.observer.once('close', () => this.close());
  }

  /**
   * Makes the router and the two transports. `transport: 'tcp'` offers only TCP candidates: the
   * test of a network that blocks UDP. The test closes itself after `maxMs`.
   */
  static async start(options: { pool: WorkerPool; owner: string; transport: 'udp' | 'tcp'; maxMs: number; onClose: (test: LoopbackTest) => void }): Promise<LoopbackTest> {
    const { router, worker } = await options.pool.createRouter({ mediaCodecs: SESSION_MEDIA_CODECS });
    try {
      const udp = options.transport === 'udp';
      const transportOptions: types.WebRtcTransportOptions = { webRtcServer: worker.webRtcServer, enableUdp: udp, enableTcp: !udp, preferUdp: udp, initialAvailableOutgoingBitrate: 1_000_000 };
      const send = await router.createWebRtcTransport(transportOptions);
      const recv = await router.createWebRtcTransport(transportOptions);
      const test: LoopbackTest = new LoopbackTest(options.pool, options.owner, router, send, recv, options.maxMs, () => options.onClose(test));
      return test;
    } catch (err) {
      router.close();
      throw err;
    }
  }

  /** A transport as the browser needs it; candidates name the address the browser reached first. */
  describe(t: types.WebRtcTransport, reachedAddress: string | undefined): LoopbackTransport {
    return { id: t.id, iceParameters: t.iceParameters, iceCandidates: this.#pool.addresses.candidatesFor(t.iceCandidates, reachedAddress), dtlsParameters: t.dtlsParameters };
  }

  transport(id: string): types.WebRtcTransport {
    if (id === this.send.id) return this.send;
    if (id === this.recv.id) return this.recv;
    throw new TiepdanError('TRANSPORT_NOT_FOUND', 'no such transport in this test');
  }

  /** Sends a track and consumes it back, paused. One audio and one video track at most. */
  async produce(kind: types.MediaKind, rtpParameters: types.RtpParameters, rtpCapabilities: types.RtpCapabilities): Promise<{ producer: types.Producer; consumer: types.Consumer }> {
    // Taken before the first await (security review M6), given back if this request fails.
    if (this.sending.has(kind)) throw new TiepdanError('TOO_MANY_PRODUCERS', 'a test sends one audio and one video track');
    this.sending.add(kind);
    let producer: types.Producer | undefined;
    try {
      try {
        producer = await this.send.produce({ kind, rtpParameters });
      } catch (err) {
        throw new TiepdanError('MEDIA_REJECTED', `the server cannot take this media: ${(err as Error).message}`);
      }
      if (!this.router.canConsume({ producerId: producer.id, rtpCapabilities })) throw new TiepdanError('MEDIA_REJECTED', 'the browser cannot receive this codec');
      const consumer = await this.recv.consume({ producerId: producer.id, rtpCapabilities, paused: true });
      this.producers.set(producer.id, producer);
      this.consumers.set(consumer.id, consumer);
      return { producer, consumer };
    } catch (err) {
      // A refused track leaves nothing behind, so it cannot be repeated to pile up producers.
      producer?.close();
      this.sending.delete(kind);
      throw err;
    }
  }

  /** The picture and sound come back. */
  async resume(consumerId: string): Promise<void> {
    const consumer = this.consumers.get(consumerId);
    if (consumer === undefined) throw new TiepdanError('CONSUMER_NOT_FOUND', 'no such consumer in this test');
    await consumer.resume();
    if (consumer.kind === 'video') await consumer.requestKeyFrame();
  }

  /** ICE and DTLS state, path and bitrates. */
  async stats(): Promise<LoopbackStats> {
    const [send] = await this.send.getStats();
    const [recv] = await this.recv.getStats();
    const tuple = send?.iceSelectedTuple ?? recv?.iceSelectedTuple;
    return { iceState: this.send.iceState, dtlsState: this.send.dtlsState, protocol: tuple?.protocol ?? null, sendBitrate: send?.recvBitrate ?? 0, recvBitrate: recv?.sendBitrate ?? 0 };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.#timer);
    if (!this.router.closed) this.router.close(); // cascades to transports, producers, consumers
    this.#onClose();
  }
}
