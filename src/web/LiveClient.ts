// Why one file: LiveClient is the browser's whole side of one protocol (join, media set-up,
// consumers, reconnection); its parts share one socket and one device. The wire types are the
// contract's (src/contract/signaling.ts, imported as types only, so zod stays out of the bundle).
import { Device, type types } from 'mediasoup-client';
import type {
  ConsumerDescription as WireConsumerDescription,
  JoinInfo as WireJoinInfo,
  LocalRecordingState,
  MediaTypes,
  Notifications as WireNotifications,
  PeerSummary,
  RaisedHand,
  RequestInput,
  RequestMethod,
  Response as WireResponse,
  SessionState,
} from '../contract/signaling.ts';
import { CLOSE_CODES, PROTOCOL_VERSION, type MediaSource as MediaSourceName } from '../contract/signalingConstants.ts';
import { SignalingError, SignalingSocket } from './SignalingSocket.ts';
import { AudioLossGuard } from './audioLossGuard.ts';
import { inboundStatsOf, type InboundRtpStats } from './inboundStats.ts';

/**
 * The browser side of a live session: joins with an invitation token, sends camera (simulcast,
 * three layers) and microphone, receives whatever the server offers, and comes back by itself when
 * the link drops (resuming its transports with an ICE restart when the server still holds them).
 */

/** The contract's media descriptions as mediasoup-client types them (the server uses mediasoup's). */
interface ClientMedia extends MediaTypes {
  rtpCapabilities: types.RtpCapabilities;
  rtpParameters: types.RtpParameters;
  iceParameters: types.IceParameters;
  iceCandidate: types.IceCandidate;
  dtlsParameters: types.DtlsParameters;
}

export type JoinInfo = WireJoinInfo<ClientMedia>;
export type ConsumerDescription = WireConsumerDescription<ClientMedia>;
export type Notifications = WireNotifications<ClientMedia>;
export type Response<M extends RequestMethod> = WireResponse<M, ClientMedia>;
export type { LocalRecordingState, PeerSummary, RaisedHand, SessionState };

/** One notification as it arrives: its name and the data the contract gives that name. */
type Notification = { [N in keyof Notifications]: { method: N; data: Notifications[N] } }[keyof Notifications];

/** A request's arguments: the data may be left out when every field of it is optional. */
type RequestArgs<M extends RequestMethod> = Record<never, never> extends RequestInput<M> ? [data?: RequestInput<M>] : [data: RequestInput<M>];

export interface RemoteTrack {
  consumerId: string;
  peerId: string;
  kind: 'audio' | 'video';
  source: string;
  track: MediaStreamTrack;
}

export type ClientState = 'idle' | 'connecting' | 'lobby' | 'joined' | 'reconnecting' | 'closed';

export interface LiveClientOptions {
  /** ws(s)://host/ws */
  url: string;
  sessionId: string;
  token: string;
  /** Send camera/microphone (default: when the role may produce). */
  sendAudio?: boolean;
  sendVideo?: boolean;
  /** Media to send; default getUserMedia({audio, video: 1280x720}). */
  stream?: MediaStream;
  /** Three simulcast layers for the camera (default true). */
  simulcast?: boolean;
  /** 'H264' for hardware encoders; default the browser's first choice (VP8). */
  videoCodec?: 'VP8' | 'H264';
  /** Ask the server for TCP-only ICE (networks that block UDP). */
  forceTcp?: boolean;
  /**
   * Join with the microphone off (N154 Art 21(2): a point speaks when the chair gives it the floor).
   * The track is disabled before it is sent, so not a word leaves before the pause.
   */
  startMicMuted?: boolean;
  reconnect?: { minDelayMs?: number; maxDelayMs?: number };
}

type Events = {
  state: [ClientState];
  joined: [JoinInfo];
  peerJoined: [PeerSummary];
  peerLeft: [Notifications['peerLeft']];
  track: [RemoteTrack];
  trackEnded: [{ consumerId: string; peerId: string; kind: string }];
  activeSpeaker: [string];
  lobby: [PeerSummary[]];
  kicked: [string];
  sessionState: [SessionState];
  mutedByHost: [{ producerId: string; kind: string }];
  /** The chair muted this peer's audio/video (it cannot turn it back on), or gave the floor back. */
  hostMute: [Notifications['hostMute']];
  mediaReset: [];
  /**
   * The SFU stopped (or resumed) sending a participant's video because this link cannot carry even
   * its lowest layer: the page shows that it is audio only for now. Not emitted for a paused camera.
   */
  videoSuspended: [{ peerId: string; consumerId: string; suspended: boolean }];
  /** A participant (this one too) started or stopped recording locally; every peer is told. */
  localRecording: [LocalRecordingState];
  /** Someone (this peer too) raised or lowered a hand. */
  handRaised: [Notifications['handRaised']];
  /** The chair gave this point the floor: the page turns the microphone on. */
  floorGiven: [];
  notification: [string, unknown];
  error: [Error];
};

/**
 * The seat's resume secret survives a reload of the same tab (sessionStorage), not a copy of the
 * link on another PC: that one has to go through the chair (docs/signaling.md, "Seats").
 */
const SEAT_KEY = (sessionId: string) => `tiepdan.seat.${sessionId}`;
function storedSeatSecret(sessionId: string): string | undefined {
  try {
    return globalThis.sessionStorage?.getItem(SEAT_KEY(sessionId)) ?? undefined;
  } catch {
    return undefined; // storage disabled: a reload goes through the lobby
  }
}
function storeSeatSecret(sessionId: string, secret: string | undefined): void {
  try {
    if (secret !== undefined) globalThis.sessionStorage?.setItem(SEAT_KEY(sessionId), secret);
  } catch {
    // storage disabled
  }
}

/** Close codes after which reconnecting makes no sense (see docs/signaling.md). */
const FINAL_CLOSE_CODES = new Set<number>([CLOSE_CODES.left, CLOSE_CODES.replaced, CLOSE_CODES.ejected, CLOSE_CODES.ended, CLOSE_CODES.timeout, CLOSE_CODES.revoked, CLOSE_CODES.authFailed]);

/**
 * Opus for speech over lossy commune links: NACK (the SFU asks for a lost packet again; the server
 * keeps audio retransmissions too), in-band FEC (each packet carries a coarse copy of the previous
 * one, so a single loss is rebuilt without waiting), mono, 32 kbps (speech needs no more; FEC
 * takes part of it), 20 ms frames, DTX (silence costs almost nothing on a thin link).
 */
const SPEECH_OPUS: types.ProducerCodecOptions = {
  opusNack: true,
  opusFec: true,
  opusDtx: true,
  opusStereo: false,
  opusMaxAverageBitrate: 32_000,
  opusPtime: 20,
};

type AnyListener = (...args: unknown[]) => void;

class Emitter<E extends Record<string, unknown[]>> {
  readonly #listeners = new Map<keyof E, Set<AnyListener>>();
  on<K extends keyof E>(event: K, fn: (...args: E[K]) => void): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) this.#listeners.set(event, (set = new Set()));
    const listener = fn as unknown as AnyListener;
    set.add(listener);
    return () => set.delete(listener);
  }
  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    for (const fn of this.#listeners.get(event) ?? []) {
      try {
        fn(...args);
      } catch (err) {
        console.error(err);
      }
    }
  }
}

export class LiveClient extends Emitter<Events> {
  readonly options: LiveClientOptions;
  state: ClientState = 'idle';
  info: JoinInfo | undefined;
  readonly peers = new Map<string, PeerSummary>();
  readonly remoteTracks = new Map<string, RemoteTrack>();
  /** Participants recording locally right now, by peer id (this one included). */
  readonly localRecorders = new Map<string, LocalRecordingState>();
  /** Who asks to speak, as the server last said (join answer, then `handRaised`). */
  readonly raisedHands = new Map<string, Omit<RaisedHand, 'raisedAt'> & { raisedAt?: string }>();
  /** Milliseconds (performance.now()) of the first socket open, for measurements. */
  timings: { socketOpen?: number; joined?: number } = {};
  #socket: SignalingSocket | undefined;
  #device: Device | undefined;
  #send: types.Transport | undefined;
  #recv: types.Transport | undefined;
  readonly #producers = new Map<string, types.Producer>();
  /** The microphone's wanted state, kept across reconnects (a new producer starts the same way). */
  #micMuted = false;
  readonly #consumers = new Map<string, { consumer: types.Consumer; description: ConsumerDescription }>();
  #stream: MediaStream | undefined;
  /** Media set-up and notifications that touch it run one at a time (consumers excepted: #startConsume). */
  #mediaQueue: Promise<unknown> = Promise.resolve();
  /** Consumers being set up, by consumer id: a `consumerClosed` for one waits for it. */
  readonly #consuming = new Map<string, Promise<void>>();
  #attempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #holdReconnectUntil = 0;

  constructor(options: LiveClientOptions) {
    super();
    this.options = options;
    this.#micMuted = options.startMicMuted === true;
  }

  #setState(state: ClientState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }

  /** Connects and joins; resolves with the join answer (in the lobby, media starts once admitted). */
  async join(): Promise<JoinInfo> {
    this.#setState('connecting');
    return this.#connect();
  }

  async #connect(): Promise<JoinInfo> {
    const socket = new SignalingSocket(this.options.url, {
      onNotification: (method, data) => this.#onNotification(socket, method, data),
      onClose: (code, reason) => this.#onClose(socket, code, reason),
    });
    this.#socket = socket;
    await socket.opened;
    this.timings.socketOpen ??= socket.openedAt;
    const rejoin = this.#send !== undefined || this.#recv !== undefined
      ? { transportIds: [this.#send, this.#recv].filter((t): t is types.Transport => t !== undefined && !t.closed).map((t) => t.id) }
      : undefined;
    const resumeSecret = this.info?.resumeSecret ?? storedSeatSecret(this.options.sessionId);
    const join: RequestInput<'join'> = { protocolVersion: PROTOCOL_VERSION, sessionId: this.options.sessionId, token: this.options.token, ...(rejoin ? { rejoin } : {}), ...(resumeSecret ? { resumeSecret } : {}) };
    const info = await socket.request<JoinInfo>('join', join);
    this.info = info;
    storeSeatSecret(this.options.sessionId, info.resumeSecret);
    this.#attempt = 0;
    this.peers.clear();
    for (const p of info.peers) this.peers.set(p.peerId, p);
    this.#syncLocalRecorders(info.localRecordings);
    this.raisedHands.clear();
    for (const r of info.raisedHands) this.raisedHands.set(r.peerId, r);
    this.timings.joined ??= performance.now();
    if (info.resumed) {
      await this.#enqueue(() => this.#resume(info));
    } else {
      await this.#enqueue(async () => {
        this.#teardownMedia();
        if (info.admitted) await this.#setupMedia(info.routerRtpCapabilities);
      });
    }
    this.#setState(info.admitted ? 'joined' : 'lobby');
    this.emit('joined', info);
    return info;
  }

  /** After a (re)join: the server's list replaces ours; whoever changed meanwhile is announced. */
  #syncLocalRecorders(now: LocalRecordingState[]): void {
    const before = new Map(this.localRecorders);
    this.localRecorders.clear();
    for (const r of now) this.localRecorders.set(r.peerId, r);
    for (const [peerId, r] of before) if (!this.localRecorders.has(peerId)) this.emit('localRecording', { ...r, recording: false });
    for (const r of now) if (!before.has(r.peerId)) this.emit('localRecording', r);
  }

  /**
   * Asks to record locally; the server refuses with LOCAL_RECORDING_FORBIDDEN unless the chair
   * allows it for this session. When accepted every peer (this one too) gets `localRecording`.
   * The recording itself (MediaRecorder) is the page's: start it only after this resolves.
   */
  async startLocalRecording(): Promise<void> {
    await this.request('startLocalRecording');
  }

  /** Tells everyone this participant's local recording stopped. */
  async stopLocalRecording(): Promise<void> {
    await this.request('stopLocalRecording');
  }

  #enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#mediaQueue.then(fn, fn);
    this.#mediaQueue = run.catch((err: unknown) => this.emit('error', err as Error));
    return run;
  }

  /** Sends a request of the contract and resolves with its typed answer (SignalingError on an error reply). */
  request<M extends RequestMethod>(method: M, ...[data]: RequestArgs<M>): Promise<Response<M>> {
    if (this.#socket === undefined) return Promise.reject(new SignalingError('DISCONNECTED', 'not connected'));
    return this.#socket.request<Response<M>>(method, data ?? {});
  }

  async #setupMedia(caps: types.RtpCapabilities): Promise<void> {
    const info = this.info!;
    const device = new Device();
    await device.load({ routerRtpCapabilities: caps });
    this.#device = device;
    const make = async (direction: 'send' | 'recv') => {
      const params = await this.request('createTransport', { direction, forceTcp: this.options.forceTcp ?? false });
      const options = { id: params.transportId, iceParameters: params.iceParameters, iceCandidates: params.iceCandidates, dtlsParameters: params.dtlsParameters, iceServers: info.iceServers };
      const transport = direction === 'send' ? device.createSendTransport(options) : device.createRecvTransport(options);
      transport.on('connect', ({ dtlsParameters }, ok, fail) => {
        this.request('connectTransport', { transportId: transport.id, dtlsParameters }).then(() => ok(), fail);
      });
      transport.on('connectionstatechange', (state) => {
        // A transport that failed while the socket is up: ask for an ICE restart.
        if (state === 'failed' && this.#socket?.open) void this.#restartIce(transport).catch(() => undefined);
      });
      if (direction === 'send') {
        transport.on('produce', ({ kind, rtpParameters, appData }, ok, fail) => {
          // What #produceLocal put there: this client's own appData.
          const { source, width, height } = appData as { source: MediaSourceName; width?: number; height?: number };
          // mediasoup-client's RtpParameters are the JSON the contract's schema checks on the server.
          this.request('produce', { transportId: transport.id, kind, rtpParameters: rtpParameters as RequestInput<'produce'>['rtpParameters'], source, width, height }).then(({ producerId }) => ok({ id: producerId }), fail);
        });
      }
      return transport;
    };
    // Sent together, not one round trip after another: the server runs a connection's requests in
    // order (docs/signaling.md), so the receive transport exists before setRtpCapabilities makes
    // consumers on it, and those start before the send transport is made. Each transport is kept
    // as soon as it is answered: the first newConsumer may arrive before the last answer.
    await Promise.all([
      info.permissions.consume ? make('recv').then((t) => (this.#recv = t)) : undefined,
      info.permissions.consume ? this.request('setRtpCapabilities', { rtpCapabilities: device.rtpCapabilities as RequestInput<'setRtpCapabilities'>['rtpCapabilities'] }) : undefined,
      info.permissions.produce ? make('send').then((t) => (this.#send = t)) : undefined,
    ]);
    if (info.permissions.produce) await this.#produceLocal();
  }

  async #produceLocal(): Promise<void> {
    const sendAudio = this.options.sendAudio ?? true;
    const sendVideo = this.options.sendVideo ?? true;
    if (!sendAudio && !sendVideo) return;
    this.#stream ??= this.options.stream ?? (await navigator.mediaDevices.getUserMedia({ audio: sendAudio, video: sendVideo ? { width: 1280, height: 720 } : false }));
    const send = this.#send!;
    const audio = this.#stream.getAudioTracks()[0];
    if (sendAudio && audio !== undefined) {
      // Muted (on join, or before a reconnect): silent from the first packet, then paused at the SFU.
      if (this.#micMuted) audio.enabled = false;
      const p = await send.produce({ track: audio, stopTracks: false, codecOptions: SPEECH_OPUS, appData: { source: 'microphone' } });
      this.#producers.set(p.id, p);
      if (this.#micMuted) {
        p.pause();
        await this.request('pauseProducer', { producerId: p.id });
      }
    }
    const video = this.#stream.getVideoTracks()[0];
    if (sendVideo && video !== undefined) {
      const settings = video.getSettings();
      const codec = this.options.videoCodec === undefined ? undefined : this.#device!.rtpCapabilities.codecs?.find((c) => c.mimeType.toLowerCase() === `video/${this.options.videoCodec!.toLowerCase()}`);
      if (this.options.videoCodec !== undefined && codec === undefined) throw new SignalingError('CODEC_UNSUPPORTED', `this browser cannot send ${this.options.videoCodec}`);
      const encodings = this.options.simulcast === false
        ? undefined
        : [
            // The lowest layer is what a 250 kbps commune gets: 320×180 at up to 130 kbps leaves
            // room for the speech beside it. Docs: docs/commune-networks.md.
            { scaleResolutionDownBy: 4, maxBitrate: 130_000, scalabilityMode: 'L1T3' },
            { scaleResolutionDownBy: 2, maxBitrate: 450_000, scalabilityMode: 'L1T3' },
            { scaleResolutionDownBy: 1, maxBitrate: 1_000_000, scalabilityMode: 'L1T3' },
          ];
      const p = await send.produce({
        track: video,
        stopTracks: false,
        encodings,
        codec,
        codecOptions: { videoGoogleStartBitrate: 1000 },
        appData: { source: 'camera', width: settings.width, height: settings.height },
      });
      this.#producers.set(p.id, p);
    }
  }

  async #restartIce(transport: types.Transport): Promise<void> {
    const { iceParameters } = await this.request('restartIce', { transportId: transport.id });
    await transport.restartIce({ iceParameters });
  }

  async #resume(info: JoinInfo): Promise<void> {
    for (const t of [this.#send, this.#recv]) if (t !== undefined && !t.closed) await this.#restartIce(t);
    // Consumers made or closed while we were away (those still being set up first finish).
    await Promise.allSettled(this.#consuming.values());
    const current = new Set(info.consumers.map((c) => c.consumerId));
    for (const [id, entry] of this.#consumers) if (!current.has(id)) this.#closeConsumer(id, entry);
    await Promise.all(info.consumers.map((description) => this.#startConsume(description)));
  }

  #teardownMedia(): void {
    for (const [id, entry] of this.#consumers) this.#closeConsumer(id, entry);
    for (const p of this.#producers.values()) p.close();
    this.#producers.clear();
    this.#send?.close();
    this.#recv?.close();
    this.#send = undefined;
    this.#recv = undefined;
    this.#device = undefined;
  }

  #closeConsumer(id: string, entry: { consumer: types.Consumer; description: ConsumerDescription }): void {
    entry.consumer.close();
    this.#audioLoss.unwatch(id);
    this.#consumers.delete(id);
    this.remoteTracks.delete(id);
    this.#producerPaused.delete(id);
    if (this.#suspendedVideo.delete(id)) this.emit('videoSuspended', { peerId: entry.description.peerId, consumerId: id, suspended: false });
    this.emit('trackEnded', { consumerId: id, peerId: entry.description.peerId, kind: entry.description.kind });
  }

  /**
   * Consumes at once, outside the media queue: a joiner's first picture must not wait behind its
   * own camera being sent, nor behind the consumers announced before it. Consumers started together
   * are negotiated together (mediasoup-client batches them into one SDP round).
   */
  #startConsume(description: ConsumerDescription): Promise<void> {
    const id = description.consumerId;
    const pending = this.#consuming.get(id);
    if (pending !== undefined || this.#consumers.has(id)) return pending ?? Promise.resolve();
    const run = this.#consume(description).finally(() => this.#consuming.delete(id));
    this.#consuming.set(id, run);
    return run;
  }

  async #consume(description: ConsumerDescription): Promise<void> {
    const recv = this.#recv;
    if (recv === undefined || recv.closed) return;
    let consumer: types.Consumer;
    try {
      consumer = await recv.consume({
        id: description.consumerId,
        producerId: description.producerId,
        kind: description.kind,
        rtpParameters: description.rtpParameters,
      });
    } catch (err) {
      if (recv.closed) return; // media torn down meanwhile (reset, leave): nothing to show
      throw err;
    }
    if (recv !== this.#recv || recv.closed) return void consumer.close();
    this.#consumers.set(consumer.id, { consumer, description });
    this.#audioLoss.watch(consumer);
    if (description.producerPaused) this.#producerPaused.add(consumer.id);
    const remote: RemoteTrack = { consumerId: consumer.id, peerId: description.peerId, kind: description.kind, source: description.source, track: consumer.track };
    this.remoteTracks.set(consumer.id, remote);
    // The resume goes out first; the page meanwhile attaches the track, ready for the first frame.
    const resumed = this.request('resumeConsumer', { consumerId: consumer.id });
    this.emit('track', remote);
    await resumed;
  }

  #onNotification(socket: SignalingSocket, method: string, data: unknown): void {
    if (socket !== this.#socket) return;
    this.emit('notification', method, data);
    // The server sends only the contract's notifications; a name this client does not know is ignored.
    const n = { method, data } as Notification;
    switch (n.method) {
      case 'newConsumer':
        void this.#startConsume(n.data).catch((err: unknown) => this.emit('error', err as Error));
        break;
      case 'consumerClosed': {
        const id = n.data.consumerId;
        void (this.#consuming.get(id) ?? Promise.resolve()).catch(() => undefined).then(() => {
          const entry = this.#consumers.get(id);
          if (entry !== undefined) this.#closeConsumer(id, entry);
        });
        break;
      }
      case 'consumerLayersChanged':
        this.#trackVideoSuspension(n.method, n.data.consumerId, n.data.spatialLayer);
        break;
      case 'consumerPaused':
      case 'consumerResumed':
        this.#trackVideoSuspension(n.method, n.data.consumerId, undefined);
        break;
      case 'peerJoined':
        this.peers.set(n.data.peerId, n.data);
        this.emit('peerJoined', n.data);
        break;
      case 'peerLeft':
        this.peers.delete(n.data.peerId);
        this.emit('peerLeft', n.data);
        break;
      case 'activeSpeaker':
        this.emit('activeSpeaker', n.data.peerId);
        break;
      case 'lobby':
        this.emit('lobby', n.data.waiting);
        break;
      case 'admitted': {
        const { iceServers } = n.data;
        void this.#enqueue(async () => {
          if (this.info !== undefined) {
            this.info.admitted = true;
            // TURN credentials arrive with the admission, not in the lobby's join answer.
            if (Array.isArray(iceServers)) this.info.iceServers = iceServers;
            await this.#setupMedia(this.info.routerRtpCapabilities);
            this.#setState('joined');
          }
        });
        break;
      }
      case 'producerPaused': {
        const producer = this.#producers.get(n.data.producerId);
        if (producer !== undefined && n.data.byHost === true) {
          producer.pause();
          this.emit('mutedByHost', { producerId: producer.id, kind: producer.kind });
        }
        break;
      }
      case 'hostMute':
        this.emit('hostMute', { kind: n.data.kind, muted: n.data.muted === true });
        break;
      case 'mediaReset': {
        const caps = n.data.routerRtpCapabilities;
        void this.#enqueue(async () => {
          this.#teardownMedia();
          if (this.info !== undefined) this.info.routerRtpCapabilities = caps;
          await this.#setupMedia(caps);
          this.emit('mediaReset');
        });
        break;
      }
      case 'sessionState':
        this.emit('sessionState', n.data);
        break;
      case 'kicked':
        this.emit('kicked', n.data.reason);
        break;
      case 'handRaised': {
        const r = n.data;
        if (r.raised) this.raisedHands.set(r.peerId, r);
        else this.raisedHands.delete(r.peerId);
        this.emit('handRaised', r);
        break;
      }
      case 'floorGiven':
        this.emit('floorGiven');
        break;
      case 'localRecording': {
        const r = n.data;
        if (r.recording) this.localRecorders.set(r.peerId, r);
        else this.localRecorders.delete(r.peerId);
        this.emit('localRecording', r);
        break;
      }
    }
  }

  /** Lengthens an audio receiver's jitter buffer while its link loses packets (NACK needs the time). */
  readonly #audioLoss = new AudioLossGuard((consumers) => inboundStatsOf(this.#recv, consumers));
  /** Video consumers the SFU sends no layer of although their producer runs (see `videoSuspended`). */
  readonly #suspendedVideo = new Set<string>();
  /** Video consumers whose producer is paused: no layer then means a camera off, not a thin link. */
  readonly #producerPaused = new Set<string>();

  #trackVideoSuspension(method: 'consumerLayersChanged' | 'consumerPaused' | 'consumerResumed', consumerId: string, spatialLayer: number | null | undefined): void {
    const entry = this.#consumers.get(consumerId);
    if (entry === undefined || entry.description.kind !== 'video') return;
    if (method === 'consumerPaused') this.#producerPaused.add(consumerId);
    if (method === 'consumerResumed') this.#producerPaused.delete(consumerId);
    const suspended = method === 'consumerLayersChanged' ? spatialLayer === null && !this.#producerPaused.has(consumerId) : this.#suspendedVideo.has(consumerId) && !this.#producerPaused.has(consumerId);
    if (suspended === this.#suspendedVideo.has(consumerId)) return;
    if (suspended) this.#suspendedVideo.add(consumerId);
    else this.#suspendedVideo.delete(consumerId);
    this.emit('videoSuspended', { peerId: entry.description.peerId, consumerId, suspended });
  }

  #onClose(socket: SignalingSocket, code: number, _reason: string): void {
    if (socket !== this.#socket || this.state === 'closed') return;
    if (FINAL_CLOSE_CODES.has(code)) {
      this.#teardownMedia();
      this.#setState('closed');
      return;
    }
    this.#setState('reconnecting');
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    const min = this.options.reconnect?.minDelayMs ?? 500;
    const max = this.options.reconnect?.maxDelayMs ?? 5000;
    const delay = Math.max(Math.min(max, min * 2 ** this.#attempt), this.#holdReconnectUntil - Date.now());
    this.#attempt++;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => {
      if (this.state === 'closed') return;
      this.#connect().catch((err: unknown) => {
        const code = err instanceof SignalingError ? err.code : '';
        // Refused for good (token, session): stop; anything else: keep trying.
        if (/^(TOKEN_|SESSION_|PEER_EJECTED)/.test(code)) {
          this.#teardownMedia();
          this.#setState('closed');
          this.emit('error', err as Error);
        } else if (this.state !== 'closed' && !(this.#socket?.open ?? false)) this.#scheduleReconnect();
      });
    }, delay);
  }

  /** Simulates a dropped link (tests): the socket closes, the client reconnects after `holdMs` at the earliest. */
  dropConnection(holdMs = 0): void {
    this.#holdReconnectUntil = Date.now() + holdMs;
    this.#socket?.close(3000, 'simulated drop');
  }

  /** Bytes received (and, for video, frames decoded) so far per remote track (inbound-rtp), keyed by consumer id. */
  async inboundBytes(): Promise<{ consumerId: string; peerId: string; kind: string; bytes: number; framesDecoded: number }[]> {
    return (await this.#inboundOfEach()).map(({ stats, ...track }) => ({
      ...track,
      bytes: stats.reduce((n, s) => n + (s.bytesReceived ?? 0), 0),
      framesDecoded: stats.reduce((n, s) => n + (s.framesDecoded ?? 0), 0),
    }));
  }

  /**
   * Receive counters per remote track (inbound-rtp): packets, packets lost and, for video, frames
   * decoded — what the load bench (bench/load.ts) reads to judge the picture in a real browser.
   */
  async inboundRtp(): Promise<{ consumerId: string; peerId: string; kind: string; packets: number; lost: number; framesDecoded: number }[]> {
    return (await this.#inboundOfEach()).map(({ stats, ...track }) => ({
      ...track,
      packets: stats.reduce((n, s) => n + (s.packetsReceived ?? 0), 0),
      lost: stats.reduce((n, s) => n + (s.packetsLost ?? 0), 0),
      framesDecoded: stats.reduce((n, s) => n + (s.framesDecoded ?? 0), 0),
    }));
  }

  /** Each remote track with its inbound-rtp entries, from one report of the receive transport. */
  async #inboundOfEach(): Promise<{ consumerId: string; peerId: string; kind: string; stats: InboundRtpStats[] }[]> {
    const entries = [...this.#consumers];
    const stats = await inboundStatsOf(this.#recv, entries.map(([, e]) => e.consumer));
    return entries.map(([consumerId, { description }]) => ({ consumerId, peerId: description.peerId, kind: description.kind, stats: stats.get(consumerId) ?? [] }));
  }

  /** The local producers (kind, paused) — e.g. to show "muted by the host". */
  localProducers(): { producerId: string; kind: string; paused: boolean; codec: string | undefined }[] {
    return [...this.#producers.values()].map((p) => ({ producerId: p.id, kind: p.kind, paused: p.paused, codec: p.rtpParameters.codecs[0]?.mimeType }));
  }

  /** Tells the SFU the size a remote video is shown at: it then sends the simulcast layer that fits. */
  async setViewSize(consumerId: string, width: number, height: number): Promise<number> {
    const { spatialLayer } = await this.request('setConsumerViewSize', { consumerId, width: Math.round(width), height: Math.round(height) });
    return spatialLayer;
  }

  /** Asks to speak, or withdraws the request (`handRaised` reaches everyone). */
  async raiseHand(raised: boolean): Promise<void> {
    await this.request('raiseHand', { raised });
  }

  /** The chair gives a point the floor (its page turns its microphone on). */
  async giveFloor(peerId: string): Promise<void> {
    await this.request('giveFloor', { peerId });
  }

  async setMicrophoneMuted(muted: boolean): Promise<void> {
    this.#micMuted = muted;
    for (const p of this.#producers.values()) {
      if (p.kind !== 'audio') continue;
      if (muted) {
        p.pause();
        await this.request('pauseProducer', { producerId: p.id });
      } else {
        p.resume();
        await this.request('resumeProducer', { producerId: p.id });
      }
    }
  }

  /** Leaves the session (others see it leave at once) and stops local media. */
  async leave(): Promise<void> {
    clearTimeout(this.#reconnectTimer);
    try {
      if (this.#socket?.open) await this.request('leave');
    } catch {
      // already gone
    }
    this.#setState('closed');
    this.#teardownMedia();
    for (const t of this.#stream?.getTracks() ?? []) t.stop();
    this.#socket?.close(1000, 'left');
  }
}
