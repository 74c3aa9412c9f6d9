/**
 * A synthetic bridge point: joins a live session over the real `/ws` protocol with its real
 * invitation, connects a send and a receive WebRtcTransport (ICE and DTLS through werift, SRTP on
 * the lean path of webrtcTransport.ts/srtp.ts), publishes Opus and three-layer simulcast VP8 from
 * pre-encoded frames, consumes what the server offers it, and counts what arrives (authenticating
 * one received packet in `srtpCheckEvery`; a failure is reported as the point's error). No RTCP is sent: the SFU neither needs it to forward nor
 * would it change what a loss count at the receiver sees (no NACK, so a lost packet stays lost).
 */
import { z } from 'zod';
import { rtpParametersSchema } from '../../src/contract/signaling.ts';
import { FPS, LAYERS, type EncodedMedia } from './media.ts';
import { InboundStream, OutboundStream, URI_AUDIO_LEVEL, URI_MID, URI_RID, EXT_AUDIO_LEVEL, EXT_MID, EXT_RID } from './rtpStreams.ts';
import { PointSignaling } from './signaling.ts';
import { SpeakerView, type ViewSize } from './speakerView.ts';
import { PointTransport, transportOfferSchema } from './webrtcTransport.ts';

const OPUS_PT = 100;
const VP8_PT = 101;

/** What the point can receive: Opus and VP8 only, no RTX (it sends no NACK), no header extensions. */
const RTP_CAPABILITIES = {
  codecs: [
    { kind: 'audio' as const, mimeType: 'audio/opus', preferredPayloadType: OPUS_PT, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [] },
    { kind: 'video' as const, mimeType: 'video/VP8', preferredPayloadType: VP8_PT, clockRate: 90000, parameters: {}, rtcpFeedback: [] },
  ],
  headerExtensions: [],
};

const newConsumerSchema = z.object({
  consumerId: z.string(),
  peerId: z.string(),
  kind: z.enum(['audio', 'video']),
  rtpParameters: rtpParametersSchema,
  producerPaused: z.boolean().optional(),
});

export interface PointOptions {
  wsUrl: string;
  sessionId: string;
  token: string;
  media: EncodedMedia;
  /** Simulcast layers to send (1–3, lowest first). */
  layers?: number;
  /**
   * The one point with the floor: its microphone carries a voice level and is forwarded. The others
   * join muted, as the room page makes a commune join: silence level, producer paused at the SFU.
   */
  speaking?: boolean;
  /**
   * CSS size every received video is shown at (`setConsumerViewSize`): the central point shows
   * the communes as thumbnails, so the SFU forwards their lowest layer. Unset: as sent (top layer).
   */
  viewSize?: ViewSize;
  /** With `viewSize`: the speaker's video is shown at this size (speakerView.ts), as the chair's screen does. */
  speakerViewSize?: ViewSize;
  /** Authenticate and decrypt the first received packet of each SSRC and then one in this many (default 16). */
  srtpCheckEvery?: number;
}

export interface PointReport {
  peerId: string;
  joined: boolean;
  error?: string;
  /** Socket open → transports connected and both producers made (ms). */
  setupMs: number | null;
  /** Socket open → first packet of every consumer the server offered whose producer is not paused (ms). */
  joinMs: number | null;
  /**
   * Where the join's time went, each from socket open (ms): admitted (`join` answered), transports
   * (both created, certificates made, ICE gathered), connected (ICE + DTLS done, producers made).
   */
  phases: { admittedMs: number | null; transportsMs: number | null; connectedMs: number | null };
  /** Packets and bytes from here on count over the measured window (after mark()). */
  packetsOut: number;
  bytesOut: number;
  packetsIn: number;
  bytesIn: number;
  expectedIn: number;
  lostIn: number;
  consumers: number;
  /** Video streams (one per consumer) a packet arrived on in the last two seconds. */
  videoStreamsArriving: number;
  /** A packet of this kind arrived in the last two seconds (and at all). */
  audioArriving: boolean;
  videoArriving: boolean;
  /** Received packets authenticated and decrypted (the sample; since the start, not the window). */
  srtpChecked: number;
  /** Of those, and of truncated packets, how many failed (also reported as `error`). */
  srtpFailures: number;
}

interface Received {
  kind: 'audio' | 'video';
  stream: InboundStream;
  /** Its producer is paused (a muted commune): nothing is expected from it. */
  paused: boolean;
}

export class SyntheticPoint {
  readonly #o: PointOptions;
  #sig: PointSignaling | undefined;
  #send: PointTransport | undefined;
  #recv: PointTransport | undefined;
  #peerId = '';
  #openedAt = 0;
  #setupMs: number | null = null;
  #joinMs: number | null = null;
  #error: string | undefined;
  readonly #phases: PointReport['phases'] = { admittedMs: null, transportsMs: null, connectedMs: null };
  readonly #bySsrc = new Map<number, Received>();
  readonly #ssrcOfConsumer = new Map<string, number>();
  #offered = 0;
  readonly #audioOut: OutboundStream;
  readonly #videoOut: OutboundStream[];
  #sending = false;
  #audioIndex = 0;
  #videoIndex = 0;
  /** Next send times (performance.now() ms), set by the pacer. */
  nextAudioAt = 0;
  nextVideoAt = 0;

  constructor(options: PointOptions) {
    this.#o = options;
    this.#audioOut = new OutboundStream(OPUS_PT, '0', { audioLevel: true });
    this.#videoOut = LAYERS.slice(0, options.layers ?? LAYERS.length).map((l) => new OutboundStream(VP8_PT, '1', { rid: l.rid }));
  }

  get sending(): boolean {
    return this.#sending;
  }

  /** Joins and sets up media; never throws (a failed point reports its error). */
  async start(): Promise<void> {
    try {
      await this.#start();
    } catch (err) {
      this.#error = (err as Error).message;
    }
  }

  async #start(): Promise<void> {
    const host = new URL(this.#o.wsUrl).hostname;
    const sig = await PointSignaling.open(this.#o.wsUrl);
    this.#sig = sig;
    this.#openedAt = performance.now();
    const resize = (consumerId: string, size: { width: number; height: number }) => void sig.request('setConsumerViewSize', { consumerId, ...size }, z.unknown()).catch(() => undefined);
    const view = this.#o.viewSize;
    const large = this.#o.speakerViewSize;
    const speakerView = view === undefined || large === undefined ? undefined : new SpeakerView(resize, view, large);
    sig.on('newConsumer', (d) => {
      const c = newConsumerSchema.parse(d);
      this.#offered++;
      const ssrc = c.rtpParameters.encodings?.[0]?.ssrc;
      if (ssrc !== undefined && !this.#bySsrc.has(ssrc)) this.#bySsrc.set(ssrc, { kind: c.kind, stream: new InboundStream(), paused: c.producerPaused === true });
      if (ssrc !== undefined) this.#ssrcOfConsumer.set(c.consumerId, ssrc);
      if (speakerView !== undefined) speakerView.consumer(c);
      else if (c.kind === 'video' && view !== undefined) resize(c.consumerId, view);
      void sig.request('resumeConsumer', { consumerId: c.consumerId }, z.object({})).catch(() => undefined);
    });
    sig.on('activeSpeaker', (d) => speakerView?.speaker(String(d.peerId)));
    const pausedAs = (paused: boolean) => (d: Record<string, unknown>) => {
      const ssrc = this.#ssrcOfConsumer.get(String(d.consumerId));
      const r = ssrc === undefined ? undefined : this.#bySsrc.get(ssrc);
      if (r !== undefined) r.paused = paused;
    };
    sig.on('consumerPaused', pausedAs(true));
    sig.on('consumerResumed', (d) => {
      pausedAs(false)(d);
      speakerView?.resumed(String(d.consumerId));
    });
    const joined = await sig.join(this.#o.sessionId, this.#o.token);
    this.#peerId = joined.peerId;
    this.#phases.admittedMs = performance.now() - this.#openedAt;
    if (!joined.admitted) throw new Error('waiting in the lobby (the bench expects a session without one)');
    // Pipelined like the browser client: one round trip for the three requests.
    const [recvOffer, , sendOffer] = await Promise.all([
      sig.request('createTransport', { direction: 'recv' }, transportOfferSchema),
      sig.request('setRtpCapabilities', { rtpCapabilities: RTP_CAPABILITIES }, z.object({})),
      sig.request('createTransport', { direction: 'send' }, transportOfferSchema),
    ]);
    const [recv, send] = await Promise.all([PointTransport.create(recvOffer, host, this.#o.srtpCheckEvery), PointTransport.create(sendOffer, host)]);
    this.#recv = recv;
    this.#send = send;
    this.#phases.transportsMs = performance.now() - this.#openedAt;
    recv.onRtp((ssrc, seq, size) => this.#onRtp(ssrc, seq, size));
    await Promise.all([
      sig.request('connectTransport', { transportId: recv.id, dtlsParameters: recv.localDtlsParameters }, z.object({})),
      sig.request('connectTransport', { transportId: send.id, dtlsParameters: send.localDtlsParameters }, z.object({})),
    ]);
    await Promise.all([recv.connect(), send.connect(), this.#produce(send)]);
    this.#setupMs = performance.now() - this.#openedAt;
    this.#phases.connectedMs = this.#setupMs;
    this.#sending = true;
  }

  async #produce(send: PointTransport): Promise<void> {
    const sig = this.#sig!;
    const cname = `synthetic-${this.#audioOut.ssrc}`;
    const audio = await sig.request(
      'produce',
      {
        transportId: send.id,
        kind: 'audio',
        source: 'microphone',
        rtpParameters: {
          mid: '0',
          codecs: [{ mimeType: 'audio/opus', payloadType: OPUS_PT, clockRate: 48000, channels: 2, parameters: { minptime: 10, useinbandfec: 1 }, rtcpFeedback: [] }],
          headerExtensions: [
            { uri: URI_MID, id: EXT_MID },
            { uri: URI_AUDIO_LEVEL, id: EXT_AUDIO_LEVEL },
          ],
          encodings: [{ ssrc: this.#audioOut.ssrc }],
          rtcp: { cname, reducedSize: true },
        },
      },
      z.object({ producerId: z.string() }),
    );
    // As the room page does (N154 Art 21(2)): a commune's microphone is off until the chair gives
    // it the floor. The browser still sends a muted track's silence packets and the SFU, told to
    // pause, forwards none; so does this point. The speaking point is the one with the floor.
    if (this.#o.speaking !== true) await sig.request('pauseProducer', { producerId: audio.producerId }, z.object({}));
    const top = LAYERS[this.#videoOut.length - 1]!;
    await sig.request(
      'produce',
      {
        transportId: send.id,
        kind: 'video',
        source: 'camera',
        width: top.width,
        height: top.height,
        rtpParameters: {
          mid: '1',
          codecs: [{ mimeType: 'video/VP8', payloadType: VP8_PT, clockRate: 90000, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }] }],
          headerExtensions: [
            { uri: URI_MID, id: EXT_MID },
            { uri: URI_RID, id: EXT_RID },
          ],
          // By rid, as a browser announces simulcast: the SFU learns each layer's SSRC from the packets.
          encodings: this.#videoOut.map((_, i) => ({ rid: LAYERS[i]!.rid, scaleResolutionDownBy: 2 ** (this.#videoOut.length - 1 - i), maxBitrate: LAYERS[i]!.kbps * 1000 })),
          rtcp: { cname, reducedSize: true },
        },
      },
      z.object({ producerId: z.string() }),
    );
  }

  #onRtp(ssrc: number, seq: number, size: number): void {
    const now = performance.now();
    let r = this.#bySsrc.get(ssrc);
    if (r === undefined) {
      // A packet before its newConsumer was read (same socket order makes it rare): counted anyway.
      r = { kind: 'video', stream: new InboundStream(), paused: false };
      this.#bySsrc.set(ssrc, r);
    }
    r.stream.receive(seq, size, now);
    if (this.#joinMs === null && this.#offered > 0 && this.#bySsrc.size >= this.#offered && [...this.#bySsrc.values()].every((x) => x.paused || x.stream.packets > 0)) {
      this.#joinMs = now - this.#openedAt;
    }
  }

  /** Sends the next 20 ms of audio. */
  sendAudio(): void {
    if (!this.#sending) return;
    const frames = this.#o.media.audio;
    const frame = frames[this.#audioIndex++ % frames.length]!;
    for (const p of this.#audioOut.opus(frame, this.#o.speaking === true ? 20 : 127)) this.#send!.send(p);
  }

  /** Sends the next video frame of every layer. */
  sendVideo(): void {
    if (!this.#sending) return;
    const i = this.#videoIndex++;
    this.#videoOut.forEach((out, layer) => {
      const frames = this.#o.media.video[layer]!.frames;
      for (const p of out.vp8(frames[i % frames.length]!.data, 90000 / FPS)) this.#send!.send(p);
    });
  }

  /** Counters at the start of the measured window: report() counts packets and loss from here. */
  #base = { packetsOut: 0, packetsIn: 0, expectedIn: 0, lostIn: 0, bytesOut: 0, bytesIn: 0 };

  /** Each stream's loss at the start of the window (see report()). */
  readonly #lostBase = new Map<InboundStream, number>();

  mark(): void {
    const r = this.#totals();
    this.#base = { packetsOut: r.packetsOut, packetsIn: r.packetsIn, expectedIn: r.expectedIn, lostIn: r.lostIn, bytesOut: r.bytesOut, bytesIn: r.bytesIn };
    this.#lostBase.clear();
    for (const { stream } of this.#bySsrc.values()) this.#lostBase.set(stream, stream.lost);
  }

  report(): PointReport {
    const r = this.#totals();
    const b = this.#base;
    // Loss in the window per stream, floored at 0: a packet counted missing before the window that
    // arrives late inside it would otherwise subtract from the window's real losses (a run showed
    // "lost at the points -288").
    let lostIn = 0;
    for (const { stream } of this.#bySsrc.values()) lostIn += Math.max(0, stream.lost - (this.#lostBase.get(stream) ?? 0));
    return { ...r, packetsOut: r.packetsOut - b.packetsOut, packetsIn: r.packetsIn - b.packetsIn, expectedIn: r.expectedIn - b.expectedIn, lostIn, bytesOut: r.bytesOut - b.bytesOut, bytesIn: r.bytesIn - b.bytesIn };
  }

  #totals(): PointReport {
    const now = performance.now();
    const streams = [...this.#bySsrc.values()];
    const arriving = (kind: 'audio' | 'video') => streams.some((s) => s.kind === kind && s.stream.packets > 0 && now - s.stream.lastAt < 2000);
    const out = [this.#audioOut, ...this.#videoOut];
    const failures = this.#recv?.srtpFailures ?? 0;
    const error = this.#error ?? (failures > 0 ? `${failures} received SRTP packets failed authentication or were truncated` : undefined);
    return {
      peerId: this.#peerId,
      joined: this.#setupMs !== null,
      ...(error === undefined ? {} : { error }),
      setupMs: this.#setupMs,
      joinMs: this.#joinMs,
      phases: { ...this.#phases },
      packetsOut: out.reduce((n, s) => n + s.packets, 0),
      bytesOut: this.#send?.bytesSent ?? 0,
      packetsIn: streams.reduce((n, s) => n + s.stream.packets, 0),
      bytesIn: this.#recv?.bytesReceived ?? 0,
      expectedIn: streams.reduce((n, s) => n + s.stream.expected, 0),
      lostIn: streams.reduce((n, s) => n + s.stream.lost, 0),
      consumers: this.#offered,
      videoStreamsArriving: streams.filter((x) => x.kind === 'video' && x.stream.packets > 0 && now - x.stream.lastAt < 2000).length,
      audioArriving: arriving('audio'),
      videoArriving: arriving('video'),
      srtpChecked: this.#recv?.srtpChecked ?? 0,
      srtpFailures: failures,
    };
  }

  async stop(): Promise<void> {
    this.#sending = false;
    if (this.#sig !== undefined && this.#sig.closeCode === undefined) {
      await this.#sig.request('leave', {}, z.object({})).catch(() => undefined);
      this.#sig.close();
    }
    await Promise.all([this.#send?.close(), this.#recv?.close()]);
  }
}
