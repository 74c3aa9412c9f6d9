// Why one file of ~870 lines: the room still holds admission, routers, peers, subscriptions and
// permissions together; issue 12 splits it into single-concept units under src/live/ (the
// structure review's step 1). Until then new behaviour goes into small helpers beside it (DownlinkBudget.ts, announcedAddresses.ts).
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { TiepdanError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';
import type { RecordableSession, RecordableSessionEvents, RecordedProducer } from '../recording/recordableSession.ts';
import type { ParticipantRole } from '../tokens/tokenSigner.ts';
import type { PoolWorker } from './PoolWorker.ts';
import type { WorkerPool } from './WorkerPool.ts';
import { SessionPeer, type ConsumerDescription, type LocalRecordingState, type PeerRemovalReason, type PeerSummary, type SessionState } from './SessionPeer.ts';
import { DownlinkBudget } from './DownlinkBudget.ts';
import { MEDIA_BITRATES, ROLE_PERMISSIONS, SESSION_MEDIA_CODECS, spatialLayerForSize, type MediaSource } from './sessionMedia.ts';

export interface SessionRoomSettings {
  maxPeers: number;
  lobbyEnabled: boolean;
  endpointsSeeEachOther: boolean;
  /** Recording should start when the session goes live (read by whoever wires the recorder). */
  autoRecord?: boolean;
}

export interface SessionRoomOptions {
  id: string;
  settings: SessionRoomSettings;
  pool: WorkerPool;
  logger: Logger;
  /** Start estimate for what the SFU sends each viewer, bits/s (the estimate adapts from there). */
  initialOutgoingBitrate?: number;
  /**
   * When the worker under the session's routers carries this many producers+consumers, new peers
   * go to a router on another worker and media is piped between the routers (pipeToRouter).
   */
  spreadAboveLoad?: number;
}

/** One router of the session and the worker it lives on; slot 0 is the primary (recorder, observers). */
interface RouterSlot {
  router: types.Router;
  worker: PoolWorker;
}

export interface TransportParameters {
  transportId: string;
  direction: 'send' | 'recv';
  iceParameters: types.IceParameters;
  iceCandidates: types.IceCandidate[];
  dtlsParameters: types.DtlsParameters;
}

export interface ProduceRequest {
  transportId: string;
  kind: types.MediaKind;
  rtpParameters: types.RtpParameters;
  source: MediaSource;
  paused?: boolean;
  size?: { width: number; height: number };
}

/** Consumer priority of a thumbnail (layer 0); a bigger view adds its layer index (mediasoup: 1–255). */
const VIEW_PRIORITY_BASE = 1;

const notFound = (what: 'transport' | 'producer' | 'consumer', id: string) =>
  new TiepdanError(({ transport: 'TRANSPORT_NOT_FOUND', producer: 'PRODUCER_NOT_FOUND', consumer: 'CONSUMER_NOT_FOUND' } as const)[what], `no ${what} ${id} of this peer`);

/**
 * One live reception session in the media layer: a router on the least-loaded worker with an
 * ActiveSpeakerObserver and an AudioLevelObserver, and its peers. When the router's worker dies,
 * the room builds a new router on another worker and tells every peer to set up its media again
 * (peers keep their identity). Implements RecordableSession for the recorder.
 */
export class SessionRoom extends EventEmitter<RecordableSessionEvents> implements RecordableSession {
  readonly id: string;
  readonly #pool: WorkerPool;
  readonly #logger: Logger;
  readonly #settings: SessionRoomSettings;
  readonly #initialOutgoingBitrate: number;
  readonly #peers = new Map<string, SessionPeer>();
  #slots: RouterSlot[] = [];
  readonly #peerSlots = new Map<string, RouterSlot>();
  #slotOpening: Promise<RouterSlot> | undefined;
  readonly #spreadAboveLoad: number;
  #activeSpeaker!: types.ActiveSpeakerObserver;
  #audioLevels!: types.AudioLevelObserver;
  #rebuilding: Promise<void> | undefined;
  #closed = false;
  #recording = false;
  /** Peer ids recording locally in their browsers (see setLocalRecording). */
  readonly #localRecorders = new Set<string>();
  /** Times the router was rebuilt after a worker death. */
  rebuilds = 0;

  private constructor(options: SessionRoomOptions) {
    super();
    this.id = options.id;
    this.#pool = options.pool;
    this.#logger = options.logger.child({ component: 'session-room', sessionId: options.id });
    this.#settings = { ...options.settings };
    this.#initialOutgoingBitrate = options.initialOutgoingBitrate ?? MEDIA_BITRATES.initialOutgoing;
    this.#spreadAboveLoad = options.spreadAboveLoad ?? 600;
  }

  static async open(options: SessionRoomOptions): Promise<SessionRoom> {
    const room = new SessionRoom(options);
    await room.#buildRouter();
    room.#logger.info({ workerIndex: room.worker.index }, 'session room opened');
    return room;
  }

  async #buildRouter(): Promise<void> {
    let placed: { router: types.Router; worker: PoolWorker } | undefined;
    while (placed === undefined) {
      try {
        placed = await this.#pool.createRouter({ mediaCodecs: SESSION_MEDIA_CODECS, appData: { sessionId: this.id } });
      } catch (err) {
        // Every worker down (one-worker installs): wait for the replacement, then try again.
        if (!(err instanceof TiepdanError) || err.code !== 'NO_WORKER_AVAILABLE' || this.#closed) throw err;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 2000);
          this.#pool.once('workerreplaced', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    }
    const { router, worker } = placed;
    if (this.#closed) {
      router.close();
      return;
    }
    this.#slots = [{ router, worker }];
    this.#peerSlots.clear();
    router.on('workerclose', () => this.#onRouterLost());
    this.#activeSpeaker = await router.createActiveSpeakerObserver({ interval: 300 });
    this.#activeSpeaker.on('dominantspeaker', ({ producer }) => {
      const peerId = producer.appData.peerId;
      if (typeof peerId === 'string') this.#broadcast((p) => p.emit('activeSpeaker', peerId));
    });
    this.#audioLevels = await router.createAudioLevelObserver({ maxEntries: 16, threshold: -70, interval: 800 });
    this.#audioLevels.on('volumes', (volumes) => {
      const levels = volumes.map((v) => ({ peerId: String(v.producer.appData.peerId), volume: v.volume }));
      this.#broadcast((p) => p.emit('audioLevels', levels));
    });
    this.#audioLevels.on('silence', () => this.#broadcast((p) => p.emit('audioLevels', [])));
  }

  #onRouterLost(): void {
    if (this.#closed || this.#rebuilding !== undefined) return;
    this.#logger.warn({ workerIndex: this.worker.index }, 'session router lost with its worker; rebuilding');
    const lost: string[] = [];
    for (const peer of this.#peers.values()) {
      for (const id of peer.producers.keys()) lost.push(id);
      peer.dropMediaState();
    }
    // Whichever router went, the whole session is rebuilt: simpler, and the same for every client.
    const slots = this.#slots;
    this.#slots = [];
    this.#peerSlots.clear();
    for (const slot of slots) slot.router.close();
    for (const id of lost) this.emit('producerClosed', id);
    this.#rebuilding = (async () => {
      // Let the pool mark the dead worker first so the router goes elsewhere.
      await new Promise((r) => setImmediate(r));
      await this.#buildRouter();
      this.rebuilds++;
      this.#logger.info({ workerIndex: this.worker.index }, 'session router rebuilt');
      const caps = this.router.rtpCapabilities;
      this.#broadcast((p) => p.emit('mediaReset', caps), true);
    })().finally(() => {
      this.#rebuilding = undefined;
    });
    this.#rebuilding.catch((err: unknown) => this.#logger.error({ err: (err as Error).message }, 'session rebuild failed'));
  }

  /** Waits for a rebuild in progress, so requests made meanwhile land on the new router. */
  async #ready(): Promise<void> {
    if (this.#closed) throw new TiepdanError('SESSION_ENDED', 'the session has ended');
    if (this.#rebuilding !== undefined) await this.#rebuilding;
  }

  /** The primary router: every producer of the session is available here (piped if need be). */
  get router(): types.Router {
    return this.#slots[0]!.router;
  }

  /** The worker of the primary router. */
  get worker(): PoolWorker {
    return this.#slots[0]!.worker;
  }

  /** Workers the session currently spans (more than one once it outgrew the first). */
  get workers(): PoolWorker[] {
    return this.#slots.map((s) => s.worker);
  }

  get rtpCapabilities(): types.RtpCapabilities {
    return this.router.rtpCapabilities;
  }

  /** The router a peer's transports live on, chosen at its first transport. */
  async #slotFor(peer: SessionPeer): Promise<RouterSlot> {
    const assigned = this.#peerSlots.get(peer.id);
    if (assigned !== undefined && this.#slots.includes(assigned)) return assigned;
    let slot = this.#slots.find((s) => s.worker.alive && s.worker.load < this.#spreadAboveLoad);
    if (slot === undefined) {
      this.#slotOpening ??= this.#openSlot().finally(() => {
        this.#slotOpening = undefined;
      });
      slot = await this.#slotOpening;
    }
    this.#peerSlots.set(peer.id, slot);
    return slot;
  }

  /** Every router is busy: add one on the least-loaded worker and pipe every producer to it. */
  async #openSlot(): Promise<RouterSlot> {
    const worker = this.#pool.leastLoaded();
    const existing = this.#slots.find((s) => s.worker === worker);
    if (existing !== undefined) return existing;
    const router = await worker.worker.createRouter({ mediaCodecs: SESSION_MEDIA_CODECS, appData: { sessionId: this.id } });
    router.on('workerclose', () => this.#onRouterLost());
    const slot = { router, worker };
    for (const owner of this.#peers.values()) {
      const from = this.#peerSlots.get(owner.id);
      if (from === undefined) continue;
      for (const { producer } of owner.producers.values()) {
        await from.router.pipeToRouter({ producerId: producer.id, router }).catch((err: unknown) => {
          this.#logger.warn({ err: (err as Error).message }, 'pipe to new router failed');
        });
      }
    }
    this.#slots.push(slot);
    this.#logger.info({ workerIndex: worker.index, routers: this.#slots.length }, 'session spread to another worker');
    return slot;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get settings(): Readonly<SessionRoomSettings> {
    return this.#settings;
  }

  get state(): SessionState {
    return { state: this.#closed ? 'ended' : 'live', recording: this.#recording };
  }

  producers(): RecordedProducer[] {
    const out: RecordedProducer[] = [];
    for (const peer of this.#peers.values()) {
      for (const p of peer.producers.values()) out.push({ producer: p.onPrimary, peerId: peer.id, label: peer.label, source: p.source });
    }
    return out;
  }

  peers(): SessionPeer[] {
    return [...this.#peers.values()];
  }

  getPeer(peerId: string): SessionPeer | undefined {
    return this.#peers.get(peerId);
  }

  #requirePeer(peerId: string): SessionPeer {
    const peer = this.#peers.get(peerId);
    if (peer === undefined) throw new TiepdanError('PEER_NOT_FOUND', `no peer ${peerId} in this session`);
    return peer;
  }

  /** Sends to every admitted peer (optionally also the lobby), except `except`. */
  #broadcast(fn: (peer: SessionPeer) => void, includeLobby = false, except?: SessionPeer): void {
    for (const peer of this.#peers.values()) {
      if (peer === except || (!peer.admitted && !includeLobby)) continue;
      fn(peer);
    }
  }

  #lobbyChanged(): void {
    const waiting = [...this.#peers.values()].filter((p) => !p.admitted).map((p) => p.summary);
    this.#broadcast((p) => p.permissions.moderate && p.emit('lobby', waiting));
  }

  /** Whether `viewer` receives `owner`'s media: communes see each other only when the chair allows. */
  canSee(viewer: SessionPeer, owner: SessionPeer): boolean {
    if (viewer === owner || !viewer.permissions.consume || !viewer.admitted || !owner.admitted) return false;
    if (viewer.role === 'endpoint' && owner.role === 'endpoint') return this.#settings.endpointsSeeEachOther;
    return true;
  }

  /**
   * Adds a peer; with a lobby, roles that wait there are not admitted yet (they see nobody and
   * nobody sees them until a host admits them). Errors: SESSION_FULL, PEER_EXISTS.
   */
  /** `toLobby` sends the peer to the lobby whatever the session's setting (a contested seat, M1). */
  addPeer(init: { peerId: string; role: ParticipantRole; label: string; toLobby?: boolean }): SessionPeer {
    if (this.#closed) throw new TiepdanError('SESSION_ENDED', 'the session has ended');
    if (this.#peers.has(init.peerId)) throw new TiepdanError('PEER_EXISTS', 'this participant is already in the session');
    if (this.#peers.size >= this.#settings.maxPeers) {
      throw new TiepdanError('SESSION_FULL', `the session already has its maximum of ${this.#settings.maxPeers} participants`);
    }
    const lobby = init.toLobby === true || (this.#settings.lobbyEnabled && ROLE_PERMISSIONS[init.role].waitsInLobby);
    const peer = new SessionPeer(init.peerId, init.role, init.label, !lobby);
    this.#peers.set(peer.id, peer);
    if (peer.admitted) this.#broadcast((p) => p.emit('peerJoined', peer.summary), false, peer);
    else this.#lobbyChanged();
    this.#logger.info({ peerId: peer.id, role: peer.role, lobby }, 'peer added');
    return peer;
  }

  /** Lets a lobby peer in. Error PEER_NOT_FOUND. */
  admit(peerId: string): void {
    const peer = this.#requirePeer(peerId);
    if (peer.admitted) return;
    peer.admitted = true;
    peer.emit('admitted');
    for (const state of this.localRecordings()) peer.emit('localRecording', state);
    this.#broadcast((p) => p.emit('peerJoined', peer.summary), false, peer);
    this.#lobbyChanged();
    this.#consumeAll(peer);
    for (const other of this.#peers.values()) {
      if (other === peer) continue;
      for (const entry of peer.producers.values()) this.#consumeSafely(other, peer, entry.producer);
    }
  }

  /** Removes a peer: its transports close (cascading to producers and consumers), others are told. */
  removePeer(peerId: string, reason: PeerRemovalReason): void {
    const peer = this.#peers.get(peerId);
    if (peer === undefined) return;
    this.#peers.delete(peerId);
    this.#closePeerMedia(peer);
    peer.emit('removed', reason);
    // A recorder that leaves stops recording; the others see its banner go before it leaves.
    if (this.#localRecorders.delete(peerId)) {
      this.#broadcast((p) => p.emit('localRecording', { peerId, label: peer.label, recording: false }));
    }
    if (peer.admitted) this.#broadcast((p) => p.emit('peerLeft', peer.id, reason));
    else this.#lobbyChanged();
    this.#logger.info({ peerId, reason }, 'peer removed');
  }

  #closePeerMedia(peer: SessionPeer): void {
    for (const t of peer.transports.values()) t.close();
    peer.transports.clear();
    peer.producers.clear();
    peer.consumers.clear();
  }

  /**
   * A fresh client took over a peer (reload, new device): its old transports go (others see its
   * producers close) but it keeps its identity and place in the session.
   */
  resetPeerMedia(peerId: string): void {
    const peer = this.#requirePeer(peerId);
    this.#closePeerMedia(peer);
    peer.rtpCapabilities = undefined;
  }

  /**
   * A WebRTC transport for the peer. `reachedAddress` is the server address the peer's signaling
   * connection arrived on: its candidates name that address first (AnnouncedAddresses).
   */
  async createTransport(peerId: string, direction: 'send' | 'recv', options: { forceTcp?: boolean; reachedAddress?: string | undefined } = {}): Promise<TransportParameters> {
    await this.#ready();
    const peer = this.#requirePeer(peerId);
    this.#requireAdmitted(peer);
    if (direction === 'send' && !peer.permissions.produce) {
      throw new TiepdanError('FORBIDDEN', `the ${peer.role} role cannot send media`);
    }
    if (direction === 'recv' && !peer.permissions.consume) {
      throw new TiepdanError('FORBIDDEN', `the ${peer.role} role cannot receive media`);
    }
    if (peer.transports.size >= 4) throw new TiepdanError('TOO_MANY_TRANSPORTS', 'a peer may hold at most 4 transports');
    const slot = await this.#slotFor(peer);
    let transport: types.WebRtcTransport | undefined;
    try {
      transport = await slot.router.createWebRtcTransport({
        webRtcServer: slot.worker.webRtcServer,
        enableUdp: options.forceTcp !== true,
        enableTcp: true,
        preferUdp: true,
        initialAvailableOutgoingBitrate: this.#initialOutgoingBitrate,
        appData: { peerId, direction },
      });
      if (direction === 'send') await transport.setMaxIncomingBitrate(MEDIA_BITRATES.maxIncoming);
      if (direction === 'recv') await this.#watchDownlink(peer, transport);
    } catch (err) {
      transport?.close();
      // The session ended (its routers closed) while the transport was being set up: mediasoup's
      // "handler not found" was answered INTERNAL (found by test/guards/signalingFuzz.test.ts).
      if (this.#closed || slot.router.closed) throw new TiepdanError('SESSION_ENDED', 'the session has ended');
      throw err;
    }
    // The peer left (or was ejected) meanwhile: its transport would outlive it.
    if (this.#closed || this.#peers.get(peerId) !== peer) {
      transport.close();
      throw this.#closed ? new TiepdanError('SESSION_ENDED', 'the session has ended') : new TiepdanError('PEER_NOT_FOUND', 'the peer left while its transport was being made');
    }
    peer.transports.set(transport.id, transport);
    transport.observer.once('close', () => peer.transports.delete(transport.id));
    if (direction === 'recv' && peer.rtpCapabilities !== undefined) queueMicrotask(() => this.#consumeAll(peer));
    return {
      transportId: transport.id,
      direction,
      iceParameters: transport.iceParameters,
      iceCandidates: this.#pool.addresses.candidatesFor(transport.iceCandidates, options.reachedAddress),
      dtlsParameters: transport.dtlsParameters,
    };
  }

  #requireAdmitted(peer: SessionPeer): void {
    if (!peer.admitted) throw new TiepdanError('IN_LOBBY', 'waiting in the lobby until the host admits you');
  }

  #transport(peer: SessionPeer, transportId: string): types.WebRtcTransport {
    const t = peer.transports.get(transportId);
    if (t === undefined) throw notFound('transport', transportId);
    return t;
  }

  async connectTransport(peerId: string, transportId: string, dtlsParameters: types.DtlsParameters): Promise<void> {
    await this.#ready();
    const peer = this.#requirePeer(peerId);
    const transport = this.#transport(peer, transportId);
    try {
      await transport.connect({ dtlsParameters });
    } catch (err) {
      // Connected twice, or parameters the worker refuses: the client's mistake, not ours.
      throw new TiepdanError('MEDIA_REJECTED', `cannot connect the transport: ${(err as Error).message}`);
    }
  }

  async restartIce(peerId: string, transportId: string): Promise<types.IceParameters> {
    await this.#ready();
    return this.#transport(this.#requirePeer(peerId), transportId).restartIce();
  }

  async closeTransport(peerId: string, transportId: string): Promise<void> {
    this.#transport(this.#requirePeer(peerId), transportId).close();
  }

  /** The peer's device capabilities: from now on it receives every producer it may see. */
  async setRtpCapabilities(peerId: string, rtpCapabilities: types.RtpCapabilities): Promise<void> {
    await this.#ready();
    const peer = this.#requirePeer(peerId);
    this.#requireAdmitted(peer);
    peer.rtpCapabilities = rtpCapabilities;
    this.#consumeAll(peer);
  }

  #consumeAll(viewer: SessionPeer): void {
    for (const owner of this.#peers.values()) {
      for (const entry of owner.producers.values()) this.#consumeSafely(viewer, owner, entry.producer);
    }
  }

  /**
   * #consume started from an event or a loop, nobody awaiting it: whatever it throws is logged
   * here. Unawaited, a throw from mediasoup (canConsume on hostile capabilities overflowed the
   * stack) was an unhandled rejection, and that ends the Node process: every session on the
   * server (found by test/guards/signalingFuzz.test.ts).
   */
  #consumeSafely(viewer: SessionPeer, owner: SessionPeer, producer: types.Producer): void {
    this.#consume(viewer, owner, producer).catch((err: unknown) => {
      this.#logger.warn({ err: (err as Error).message, peerId: viewer.id, producerId: producer.id }, 'consume failed unexpectedly');
    });
  }

  async #consume(viewer: SessionPeer, owner: SessionPeer, producer: types.Producer): Promise<void> {
    if (!this.canSee(viewer, owner) || viewer.rtpCapabilities === undefined || producer.closed) return;
    const transport = viewer.recvTransport;
    if (transport === undefined) return;
    for (const c of viewer.consumers.values()) if (c.producerId === producer.id) return;
    const slot = this.#peerSlots.get(viewer.id);
    if (slot === undefined || !slot.router.canConsume({ producerId: producer.id, rtpCapabilities: viewer.rtpCapabilities })) {
      this.#logger.warn({ peerId: viewer.id, producerId: producer.id }, 'peer cannot consume producer (codecs)');
      return;
    }
    let consumer: types.Consumer;
    try {
      // Paused until the client has set it up and asks to resume: no lost key frame. Audio keeps
      // its retransmission buffer too (mediasoup keeps one only for video by default): on a lossy
      // commune link a lost Opus packet is asked for again (NACK) instead of concealed.
      consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: viewer.rtpCapabilities, paused: true, enableRtx: true });
    } catch (err) {
      if (!transport.closed && !producer.closed) this.#logger.warn({ err: (err as Error).message, peerId: viewer.id }, 'consume failed');
      return;
    }
    // Another call may have raced this one for the same producer.
    for (const c of viewer.consumers.values()) {
      if (c.producerId === producer.id) {
        consumer.close();
        return;
      }
    }
    viewer.consumers.set(consumer.id, consumer);
    const forget = () => {
      if (viewer.consumers.delete(consumer.id)) viewer.emit('consumerClosed', consumer.id);
    };
    consumer.on('transportclose', forget);
    consumer.on('producerclose', forget);
    consumer.observer.once('close', () => {
      viewer.consumers.delete(consumer.id);
      viewer.wantedLayers.delete(consumer.id);
    });
    consumer.on('producerpause', () => viewer.emit('consumerPaused', consumer.id));
    consumer.on('producerresume', () => viewer.emit('consumerResumed', consumer.id));
    consumer.on('layerschange', (layers) => viewer.emit('consumerLayersChanged', consumer.id, layers));
    // Before the client resumes it: the first key frame is of a layer the link can carry.
    await this.#fitLayer(viewer, consumer);
    if (consumer.closed) return;
    const entry = owner.producers.get(producer.id);
    const description: ConsumerDescription = {
      consumerId: consumer.id,
      producerId: producer.id,
      peerId: owner.id,
      kind: consumer.kind,
      source: entry?.source ?? (consumer.kind === 'audio' ? 'microphone' : 'camera'),
      rtpParameters: consumer.rtpParameters,
      type: consumer.type,
      producerPaused: consumer.producerPaused,
    };
    viewer.emit('newConsumer', description);
  }

  /** The peer's current consumers, for a client resuming after a reconnect. */
  describeConsumers(peerId: string): ConsumerDescription[] {
    const viewer = this.#requirePeer(peerId);
    const out: ConsumerDescription[] = [];
    for (const consumer of viewer.consumers.values()) {
      const owner = [...this.#peers.values()].find((p) => p.producers.has(consumer.producerId));
      if (owner === undefined) continue;
      out.push({
        consumerId: consumer.id,
        producerId: consumer.producerId,
        peerId: owner.id,
        kind: consumer.kind,
        source: owner.producers.get(consumer.producerId)!.source,
        rtpParameters: consumer.rtpParameters,
        type: consumer.type,
        producerPaused: consumer.producerPaused,
      });
    }
    return out;
  }

  async produce(peerId: string, request: ProduceRequest): Promise<string> {
    await this.#ready();
    const peer = this.#requirePeer(peerId);
    this.#requireAdmitted(peer);
    if (!peer.permissions.produce) throw new TiepdanError('FORBIDDEN', `the ${peer.role} role cannot send media`);
    const transport = this.#transport(peer, request.transportId);
    if (transport.appData.direction !== 'send') throw new TiepdanError('WRONG_TRANSPORT', 'produce needs a send transport');
    if ((request.source === 'microphone') !== (request.kind === 'audio')) {
      throw new TiepdanError('INVALID_DATA', `source ${request.source} does not match kind ${request.kind}`);
    }
    for (const p of peer.producers.values()) {
      if (p.source === request.source) throw new TiepdanError('SOURCE_IN_USE', `this peer already sends its ${request.source}`);
    }
    let producer: types.Producer;
    try {
      producer = await transport.produce({
        kind: request.kind,
        rtpParameters: request.rtpParameters,
        // A kind the host muted starts paused: a new microphone is no way around the mute (L3).
        paused: (request.paused ?? false) || peer.mutedByHost.has(request.kind),
        appData: { peerId, source: request.source },
      });
    } catch (err) {
      throw new TiepdanError('MEDIA_REJECTED', `the media parameters were refused: ${(err as Error).message}`);
    }
    // Make the producer available on the session's other routers (the primary one for the recorder).
    const home = this.#peerSlots.get(peer.id)!;
    let onPrimary = producer;
    for (const slot of this.#slots) {
      if (slot === home) continue;
      try {
        const { pipeProducer } = await home.router.pipeToRouter({ producerId: producer.id, router: slot.router });
        if (slot === this.#slots[0] && pipeProducer !== undefined) onPrimary = pipeProducer;
      } catch (err) {
        this.#logger.warn({ err: (err as Error).message }, 'pipe to router failed');
      }
    }
    const entry = { producer, source: request.source, size: request.size, onPrimary };
    peer.producers.set(producer.id, entry);
    producer.observer.once('close', () => {
      if (peer.producers.delete(producer.id)) this.emit('producerClosed', producer.id);
    });
    producer.on('score', (score) => {
      peer.emit('producerScore', producer.id, score);
      // A layer the sender stopped (a busy PC drops its smallest layer first) or started again.
      if (producer.type === 'simulcast') this.#refitViewersOf(producer.id);
    });
    if (producer.kind === 'audio') {
      // Not awaited: the sender's next requests (its camera, its consumers' resumes) need not wait
      // for the speaker observers; the worker still handles them in this order.
      void this.#activeSpeaker.addProducer({ producerId: producer.id }).catch(() => undefined);
      void this.#audioLevels.addProducer({ producerId: producer.id }).catch(() => undefined);
    }
    this.emit('producerAdded', { producer: onPrimary, peerId: peer.id, label: peer.label, source: request.source });
    for (const viewer of this.#peers.values()) this.#consumeSafely(viewer, peer, producer);
    return producer.id;
  }

  #producer(peer: SessionPeer, producerId: string): types.Producer {
    const p = peer.producers.get(producerId);
    if (p === undefined) throw notFound('producer', producerId);
    return p.producer;
  }

  async pauseProducer(peerId: string, producerId: string): Promise<void> {
    await this.#producer(this.#requirePeer(peerId), producerId).pause();
  }

  async resumeProducer(peerId: string, producerId: string): Promise<void> {
    const peer = this.#requirePeer(peerId);
    const producer = this.#producer(peer, producerId);
    if (peer.mutedByHost.has(producer.kind)) {
      throw new TiepdanError('MUTED_BY_HOST', `the chair muted your ${producer.kind === 'audio' ? 'microphone' : 'camera'}; wait until the chair gives you the floor`);
    }
    await producer.resume();
  }

  async closeProducer(peerId: string, producerId: string): Promise<void> {
    this.#producer(this.#requirePeer(peerId), producerId).close();
  }

  /** Host mute: pauses the peer's producers of that kind; the peer is told so its UI shows it. */
  async mutePeer(peerId: string, kind: types.MediaKind): Promise<number> {
    const peer = this.#requirePeer(peerId);
    // Enforced, not only a pause the owner could undo (security review L3).
    if (!peer.mutedByHost.has(kind)) {
      peer.mutedByHost.add(kind);
      peer.emit('hostMute', kind, true);
    }
    let muted = 0;
    for (const { producer } of peer.producers.values()) {
      if (producer.kind !== kind || producer.paused) continue;
      await producer.pause();
      peer.emit('producerPaused', producer.id, true);
      muted++;
    }
    return muted;
  }

  /**
   * The host gives the floor back: the peer may resume its own producers of that kind again. Its
   * microphone stays paused until the peer itself turns it on (NĐ 154 Art 21(2): speak when given
   * the floor). Returns whether the kind was muted.
   */
  unmutePeer(peerId: string, kind: types.MediaKind): boolean {
    const peer = this.#requirePeer(peerId);
    if (!peer.mutedByHost.delete(kind)) return false;
    peer.emit('hostMute', kind, false);
    return true;
  }

  #consumer(peer: SessionPeer, consumerId: string): types.Consumer {
    const c = peer.consumers.get(consumerId);
    if (c === undefined) throw notFound('consumer', consumerId);
    return c;
  }

  async resumeConsumer(peerId: string, consumerId: string): Promise<void> {
    const consumer = this.#consumer(this.#requirePeer(peerId), consumerId);
    // No requestKeyFrame() after it: resuming asks the producer for a key frame by itself (mediasoup
    // does on resume, or once the transport connects), and a second request for the same stream
    // only costs a worker round trip that every later request of this connection waits for.
    await consumer.resume();
  }

  async pauseConsumer(peerId: string, consumerId: string): Promise<void> {
    await this.#consumer(this.#requirePeer(peerId), consumerId).pause();
  }

  async setConsumerPreferredLayers(peerId: string, consumerId: string, layers: types.ConsumerLayers): Promise<void> {
    const viewer = this.#requirePeer(peerId);
    const consumer = this.#consumer(viewer, consumerId);
    if (consumer.type !== 'simulcast' && consumer.type !== 'svc') {
      throw new TiepdanError('NOT_LAYERED', 'this consumer has a single layer');
    }
    if (consumer.type === 'svc') return consumer.setPreferredLayers(layers);
    viewer.wantedLayers.set(consumer.id, layers.spatialLayer);
    const layer = this.#budgetLayer(viewer, consumer);
    await consumer.setPreferredLayers(layer < layers.spatialLayer ? { spatialLayer: layer } : layers);
  }

  /** Chooses the simulcast layer from the size the viewer displays the video at. */
  async setConsumerViewSize(peerId: string, consumerId: string, view: { width: number; height: number }): Promise<number> {
    const viewer = this.#requirePeer(peerId);
    const consumer = this.#consumer(viewer, consumerId);
    if (consumer.type !== 'simulcast') return 0;
    let size: { width: number; height: number } | undefined;
    for (const peer of this.#peers.values()) size ??= peer.producers.get(consumer.producerId)?.size;
    // A simulcast consumer has one encoding; the layer count is the producer's.
    const layer = spatialLayerForSize(this.#producerLayerCount(consumer.producerId), size, view);
    viewer.wantedLayers.set(consumer.id, layer);
    await this.#fitLayer(viewer, consumer);
    // When the viewer's link cannot carry everything, mediasoup shares it by priority: the big
    // tile (the speaker) before the thumbnails. Priority grows with the layer the view wants.
    await consumer.setPriority(VIEW_PRIORITY_BASE + layer);
    return layer;
  }

  /**
   * Follows the receive transport's bandwidth estimate (one report a second) and keeps every
   * simulcast consumer of the peer on the layer its downlink budget carries (DownlinkBudget says why).
   */
  async #watchDownlink(peer: SessionPeer, transport: types.WebRtcTransport): Promise<void> {
    peer.downlink = new DownlinkBudget();
    transport.on('trace', (trace) => {
      if (trace.type !== 'bwe' || typeof trace.info !== 'object' || trace.info === null) return;
      const available = (trace.info as { availableBitrate?: unknown }).availableBitrate;
      if (typeof available !== 'number' || !peer.downlink.observe(available)) return;
      for (const consumer of peer.consumers.values()) void this.#fitLayer(peer, consumer);
    });
    await transport.enableTraceEvent(['bwe']);
  }

  /**
   * The layer a consumer gets: what its view wants (default the top), capped by the downlink budget.
   * When the sender is not sending that layer (Chrome under CPU load stops its smallest layer first),
   * the lowest layer above it that is sent: capping to a silent layer would freeze the picture.
   */
  #budgetLayer(viewer: SessionPeer, consumer: types.Consumer): number {
    const producer = this.#findProducer(consumer.producerId);
    const bitrates = (producer?.rtpParameters.encodings ?? [{}]).map((e) => e.maxBitrate);
    const wanted = viewer.wantedLayers.get(consumer.id) ?? bitrates.length - 1;
    const layer = viewer.downlink.layerFor(bitrates, wanted, consumer.preferredLayers?.spatialLayer ?? 0);
    const sent = new Set((producer?.score ?? []).filter((s) => s.score > 0).map((s) => s.encodingIdx));
    if (sent.size === 0 || sent.has(layer)) return layer;
    for (let i = layer + 1; i < bitrates.length; i++) if (sent.has(i)) return i;
    return layer;
  }

  #refitViewersOf(producerId: string): void {
    for (const viewer of this.#peers.values()) {
      for (const consumer of viewer.consumers.values()) if (consumer.producerId === producerId) void this.#fitLayer(viewer, consumer);
    }
  }

  #findProducer(producerId: string): types.Producer | undefined {
    for (const peer of this.#peers.values()) {
      const p = peer.producers.get(producerId);
      if (p !== undefined) return p.producer;
    }
    return undefined;
  }

  async #fitLayer(viewer: SessionPeer, consumer: types.Consumer): Promise<void> {
    if (consumer.type !== 'simulcast' || consumer.closed) return;
    const layer = this.#budgetLayer(viewer, consumer);
    if (consumer.preferredLayers?.spatialLayer === layer) return;
    try {
      await consumer.setPreferredLayers({ spatialLayer: layer });
      this.#logger.debug({ peerId: viewer.id, consumerId: consumer.id, layer, budget: viewer.downlink.videoBitrate }, 'video layer fitted to the downlink');
    } catch (err) {
      if (!consumer.closed) this.#logger.warn({ err: (err as Error).message, peerId: viewer.id }, 'could not set the video layer');
    }
  }

  #producerLayerCount(producerId: string): number {
    for (const peer of this.#peers.values()) {
      const p = peer.producers.get(producerId);
      if (p !== undefined) return p.producer.rtpParameters.encodings?.length ?? 1;
    }
    return 1;
  }

  /** Statistics for technicians and the host: transports, producers and consumers of one peer. */
  async getStats(peerId: string): Promise<PeerStats> {
    await this.#ready();
    const peer = this.#requirePeer(peerId);
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
    return { peerId, lossPct, rttMs, transports, producers, consumers };
  }

  /** Peers recording locally in their browser right now (a joiner is told who they are). */
  localRecordings(): LocalRecordingState[] {
    const out: LocalRecordingState[] = [];
    for (const peerId of this.#localRecorders) {
      const peer = this.#peers.get(peerId);
      if (peer !== undefined) out.push({ peerId, label: peer.label, recording: true });
    }
    return out;
  }

  /**
   * A peer's local (browser) recording started or stopped. Whether it may is the signaling's
   * decision (the session's `participantRecordingAllowed`); here every admitted peer, the recorder
   * included, is told, so no start goes unseen. False when nothing changed. Errors: PEER_NOT_FOUND, IN_LOBBY.
   */
  setLocalRecording(peerId: string, on: boolean): boolean {
    const peer = this.#requirePeer(peerId);
    if (on && !peer.admitted) throw new TiepdanError('IN_LOBBY', 'waiting in the lobby until the host admits you');
    if (this.#localRecorders.has(peerId) === on) return false;
    if (on) this.#localRecorders.add(peerId);
    else this.#localRecorders.delete(peerId);
    const state: LocalRecordingState = { peerId, label: peer.label, recording: on };
    this.#broadcast((p) => p.emit('localRecording', state));
    this.#logger.info({ peerId, recording: on }, 'local recording changed');
    return true;
  }

  /** Recording state as the recorder reports it; every peer is told. */
  setRecording(on: boolean): void {
    if (this.#recording === on) return;
    this.#recording = on;
    const state = this.state;
    this.#broadcast((p) => p.emit('sessionState', state), true);
  }

  /** The recorder's warning (e.g. disk space low), shown to the hosts. */
  recordingWarning(freeBytes: number): void {
    this.#broadcast((p) => p.permissions.moderate && p.emit('recordingWarning', { freeBytes }));
  }

  /** Ends the session: every peer is removed with reason `ended`, the router closes, `ended` fires. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#localRecorders.clear();
    for (const peer of [...this.#peers.values()]) {
      peer.emit('sessionState', { state: 'ended', recording: false });
      this.#peers.delete(peer.id);
      peer.emit('removed', 'ended');
    }
    for (const slot of this.#slots) slot.router.close();
    this.#logger.info('session room closed');
    this.emit('ended');
  }
}

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

export type { PeerSummary };
